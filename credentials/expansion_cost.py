"""What JSON-LD → RDF will cost, counted from the expanded document before pyld builds its node map.

pyld's node map (JSON-LD 1.1 API §7.2 Node Map Generation) merges every node object that shares
an ``@id`` and adds each value to the merged node's property only if it is not there yet,
comparing it with every value already there: n values of one property of one node cost
n(n-1)/2 comparisons.  Sixteen ``credentialSubject`` objects sharing one ``id`` with 256 values
each are 8.4 million comparisons (15 s); request limits on array sizes cannot see it, because
the values come from different objects.  :func:`conversion_cost` walks the expanded document
once (linear, without recursion), groups the values by (node, property) exactly as node merging
will, and returns the work, so that it is charged to the request's budget *before* it is done.

Pure: no Flask, no pyld.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Units (about a microsecond each, see ``credentials.budget``) per value of the expanded
#: document: expansion, contexts and the node map cost 10-30 µs per value.
UNITS_PER_VALUE = 20
#: Units per comparison of two values while merging nodes (about 0.6 µs each).
UNITS_PER_COMPARISON = 1

# Keys of a node object that are not properties with values to merge.
_NOT_MERGED = frozenset({"@id", "@index", "@context"})
# Keys whose value holds further objects, walked but not merged into this node's properties.
_CONTAINERS = frozenset({"@list", "@set", "@graph", "@reverse", "@included"})


@dataclass(frozen=True, slots=True)
class ConversionCost:
    """The counted work of one JSON-LD → RDF conversion."""

    #: Objects, arrays and scalars of the expanded document.
    values: int
    #: Value comparisons node merging will make (the sum of n(n-1)/2 over node properties).
    comparisons: int

    @property
    def units(self) -> int:
        return self.values * UNITS_PER_VALUE + self.comparisons * UNITS_PER_COMPARISON


def conversion_cost(expanded: Any) -> ConversionCost:
    """Count the values of ``expanded`` (pyld's expanded form) and the comparisons merging them
    into a node map will make.  Over-counts rather than under-counts: values of nodes with the
    same ``@id`` in different graphs are counted as if merged."""
    # Values per (node @id, property) for nodes that merge with others of their @id; a node
    # without @id stands alone, so its properties' comparisons are known at once.
    per_property: dict[tuple[str, str], int] = {}
    comparisons = 0
    values = 0
    stack: list[Any] = [expanded]
    push, extend = stack.append, stack.extend
    while stack:
        item = stack.pop()
        values += 1
        kind = type(item)
        if kind is list:
            extend(item)
            continue
        if kind is not dict:
            continue
        if "@value" in item:
            values += len(item)
            continue
        # A node object (or a list / set object, whose items are walked the same way).
        node_id = item.get("@id")
        merged = type(node_id) is str
        for key, value in item.items():
            if key in _NOT_MERGED:
                continue
            if key in _CONTAINERS:
                push(value)
                continue
            if type(value) is list:
                count = len(value)
                extend(value)
            else:
                count = 1
                push(value)
            if merged:
                slot = (node_id, key)
                per_property[slot] = per_property.get(slot, 0) + count
            else:
                comparisons += count * (count - 1) // 2
    comparisons += sum(n * (n - 1) // 2 for n in per_property.values())
    return ConversionCost(values=values, comparisons=comparisons)
