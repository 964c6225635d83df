"""The event canon: versioned JSON Schema contracts and the registry that loads them.

Example::

    from lakehouse.contracts import ContractRegistry

    registry = ContractRegistry.load()
    registry.get("page_viewed", 2).family  # 'client'
"""

from lakehouse.contracts.registry import CHANNELS, COLLECT_CONTEXT_TYPE, Contract, ContractRegistry
from lakehouse.contracts.schema import ContractError, Node

__all__ = ["CHANNELS", "COLLECT_CONTEXT_TYPE", "Contract", "ContractError", "ContractRegistry", "Node"]
