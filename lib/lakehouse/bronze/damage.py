"""Bronze files that cannot be read: found, explained, and what they held before the damage.

A partial Firehose write leaves a truncated ``.json.gz``; a failed upload leaves a 0-byte
one; a misrouted object leaves binary bytes under a ``.gz`` name. Spark's reader throws on
the first and the third (failing the whole micro-batch, every retry) and skips the second
without a word. Nothing here skips anything: each such file becomes a :class:`FileDamage`
(the file-level quarantine entry), and the complete lines decompressed before the damage
are handed back to be ingested like any other records.

Only the files of a batch that failed to read are probed: first together, then by halves
(Spark jobs over the file list, no data to the driver), so k damaged files among n cost
about ``k * log2(n)`` small reads. A damaged file is then read alone on the driver, where
Python's ``zlib`` says exactly where its stream breaks. A file Spark fails on but ``zlib``
reads whole is not damaged (a transient storage error): the batch fails as before.

Example::

    damaged = find_damaged_files(spark, batch_files)      # [] when every file reads
    damaged[0].error_message, damaged[0].recovered_lines
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

log = logging.getLogger(__name__)

ERROR_TYPE = "unreadable_file"
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16


@dataclass(frozen=True)
class FileDamage:
    """One unreadable Bronze file: why, and what could be read before the damage."""

    bronze_file: str
    error_message: str
    file_bytes: int
    recovered_bytes: int = 0  # decompressed bytes read before the damage
    recovered_text: str = ""  # the complete lines among them (ingested as records)

    @property
    def recovered_lines(self) -> int:
        return sum(1 for line in self.recovered_text.split("\n") if line.strip())


def _gunzip_prefix(data: bytes) -> tuple[bytes, str | None]:
    """Decompress as much of a gzip file as possible: ``(bytes read, error or None)``."""
    if not data:
        return b"", "0 bytes: an empty file is not a gzip stream (an interrupted write)"
    if data[:2] != GZIP_MAGIC:
        return b"", f"not a gzip stream: the file starts with bytes {data[:4].hex(' ')}, not 1f 8b"
    out: list[bytes] = []
    rest = data
    while rest:  # one gzip member after another (concatenated streams are valid gzip)
        member = zlib.decompressobj(wbits=31)
        for start in range(0, len(rest), _CHUNK):
            try:
                out.append(member.decompress(rest[start : start + _CHUNK]))
            except zlib.error as exc:
                return b"".join(out), f"corrupt gzip data: {exc}"
            if member.eof:
                break
        if not member.eof:
            return b"".join(out), "the gzip stream ends before its end marker (a truncated write)"
        rest = member.unused_data
    return b"".join(out), None


def _root_cause(exc: BaseException) -> str:
    """The innermost Java exception message of a Spark failure, else the Python one."""
    java = getattr(exc, "java_exception", None)
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    while java is not None:
        message = f"{java.getClass().getSimpleName()}: {java.getMessage()}"
        java = java.getCause()
    return message


def _file_bytes(spark: SparkSession, uri: str) -> bytes:
    """The raw bytes of one file (one file only: used on damaged files)."""
    row = spark.read.format("binaryFile").load(uri).select("content").first()
    return bytes(row["content"]) if row is not None else b""


def file_size(spark: SparkSession, uri: str) -> int:
    """Size in bytes of one file, on any Hadoop file system."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return int(fs.getFileStatus(path).getLen())


def _read_error(spark: SparkSession, uris: list[str]) -> BaseException | None:
    """The error of reading ``uris`` whole (decompressing every byte), or None if they read."""
    from py4j.protocol import Py4JJavaError

    try:
        spark.read.format("text").option("wholetext", "true").load(uris).select(
            F.sum(F.length("value"))
        ).collect()
    except Py4JJavaError as exc:
        return exc
    return None


def _failing_files(spark: SparkSession, uris: list[str]) -> dict[str, BaseException]:
    """The files among ``uris`` that fail to read, each with its error (bisection)."""
    error = _read_error(spark, uris)
    if error is None:
        return {}
    if len(uris) == 1:
        return {uris[0]: error}
    middle = len(uris) // 2
    return {**_failing_files(spark, uris[:middle]), **_failing_files(spark, uris[middle:])}


def diagnose(spark: SparkSession, uri: str) -> FileDamage | None:
    """Why one file cannot be read and what precedes the damage; None if it reads whole."""
    data = _file_bytes(spark, uri) if file_size(spark, uri) else b""
    if uri.endswith(".gz"):
        text, problem = _gunzip_prefix(data)
        if problem is None:
            return None
        complete = text[: text.rfind(b"\n") + 1]
        return FileDamage(uri, problem, len(data), len(text), complete.decode("utf-8", errors="replace"))
    error = _read_error(spark, [uri])  # again: a storage hiccup is not damage
    if error is None:
        return None
    return FileDamage(uri, f"the reader failed: {_root_cause(error)}", len(data))


def find_damaged_files(spark: SparkSession, uris: list[str]) -> list[FileDamage]:
    """The damaged files among ``uris`` (a batch whose read failed), in file order."""
    damaged = []
    for uri, error in sorted(_failing_files(spark, sorted(uris)).items()):
        damage = diagnose(spark, uri)
        if damage is None:
            log.warning("file failed to read but is whole", extra={"file": uri, "error": _root_cause(error)})
            continue
        log.warning("unreadable bronze file", extra={"file": uri, "error": damage.error_message})
        damaged.append(damage)
    return damaged
