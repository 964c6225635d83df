"""The contract lock: published versions are immutable; documentation may be reworded."""

import json
import shutil

import pytest
from lakehouse.assets import asset_dir
from lakehouse.cli import main
from lakehouse.contracts import ContractError
from lakehouse.contracts.lock import ContractLockError, check_lock, content_hash, write_lock


def test_every_shipped_contract_version_is_published_and_unchanged():
    assert check_lock() == []


@pytest.fixture
def canon(tmp_path):
    root = tmp_path / "contracts"
    shutil.copytree(asset_dir("contracts"), root, ignore=shutil.ignore_patterns("*.md"))
    return root


def edit(root, rel, change):
    path = root / rel
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc, indent=4))


@pytest.mark.parametrize(
    "change",
    [
        lambda d: (d["required"].append("title"), d["properties"]["title"].update(type="string")),
        lambda d: d["properties"].update(referrer={"type": "integer"}),  # a changed type
        lambda d: d["properties"].update(tab_id={"type": "string"}),  # additive, optional: refused too
        lambda d: d["properties"]["url"].update(maxLength=100),
    ],
)
def test_an_edit_of_a_published_version_says_to_add_a_version_with_an_upcast(canon, change):
    edit(canon, "client/page_viewed.v1.json", change)
    assert check_lock(canon) == [
        "client/page_viewed.v1.json: published contract version page_viewed v1 was edited in place (its "
        "content hash is locked in contracts/lock.json); restore it and add client/page_viewed.v3.json "
        'with "x-upcast-from": {"version": 2} instead'
    ]
    with pytest.raises(ContractLockError, match="page_viewed v1 was edited"):
        write_lock(canon)  # the lock is never rewritten over an edit


def test_documentation_and_formatting_may_change(canon):
    def reword(doc):
        doc["description"] = "A page was viewed (reworded)."
        doc["title"] = "page_viewed, version 1"
        doc["properties"]["url"]["description"] = "The address"
        doc["properties"]["url"]["examples"] = ["https://example.com/"]

    edit(canon, "client/page_viewed.v1.json", reword)
    edit(canon, "support/complaint_filed.v1.json", lambda d: d)  # reformatted only
    assert check_lock(canon) == []
    # a property that happens to be called "description" is a field, not documentation
    edit(canon, "support/complaint_filed.v1.json", lambda d: d["properties"].pop("description"))
    assert len(check_lock(canon)) == 1


def test_a_new_version_is_published_by_lock_and_a_removed_one_is_refused(canon, capsys):
    v2 = json.loads((canon / "client" / "screen_viewed.v1.json").read_text())
    v2["x-event"]["version"] = 2
    v2["x-upcast-from"] = {"version": 1}
    (canon / "client" / "screen_viewed.v2.json").write_text(json.dumps(v2))
    assert check_lock(canon) == [
        "client/screen_viewed.v2.json: not published yet; run `lakehouse contracts lock` to add it "
        "to contracts/lock.json"
    ]
    assert main(["contracts", "check", "--contracts-path", str(canon)]) == 1
    assert main(["contracts", "lock", "--contracts-path", str(canon)]) == 0
    assert "client/screen_viewed.v2.json" in capsys.readouterr().out
    assert main(["contracts", "check", "--contracts-path", str(canon)]) == 0
    locked = json.loads((canon / "lock.json").read_text())["versions"]
    assert locked["client/screen_viewed.v2.json"] == content_hash(v2)

    (canon / "tax" / "tax.reversal.v1.json").unlink()
    capsys.readouterr()
    assert main(["contracts", "check", "--contracts-path", str(canon)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "lakehouse contracts check: error: tax/tax.reversal.v1.json: published contract version removed; "
        "restore it (Silver's history was typed with it)"
    ]


def test_lock_never_publishes_a_contract_the_registry_rejects(canon):
    broken = json.loads((canon / "client" / "screen_viewed.v1.json").read_text())
    broken["x-event"]["version"] = 3  # the file says v2
    (canon / "client" / "screen_viewed.v2.json").write_text(json.dumps(broken))
    before = (canon / "lock.json").read_text()
    with pytest.raises(ContractError, match="disagree with the file name"):
        write_lock(canon)
    assert (canon / "lock.json").read_text() == before
