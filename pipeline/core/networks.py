"""Networks: connected components of linked messages, with stable ids (pure: no I/O).

Union-find over message ids, kept in any mutable mapping (a dict in tests, a Faust table in
the worker), so the state survives restarts through the table's changelog.

- A network is named after its **founder**, the earliest message (``created_at``, then
  ``message_id``): ``NET-`` + 12 hex digits of its hash. The name therefore does not
  depend on the order in which links arrive, nor on which worker saw them.
- Merging two networks keeps the founder's id; the other id is recorded in ``merged_ids``.
- Adding a link twice changes nothing (idempotent re-processing).
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any


def network_id_of(founder_message_id: str) -> str:
    """The id of the network founded by a message."""
    digest = hashlib.sha1(founder_message_id.encode(), usedforsecurity=False).hexdigest()
    return f"NET-{digest[:12].upper()}"


@dataclass(frozen=True)
class NetworkChange:
    """What a link did: the network now holding both ends, and what was renamed."""

    network_id: str
    merged_ids: list[str] = field(default_factory=list)  # networks absorbed by this link
    renamed: list[str] = field(default_factory=list)  # messages whose network_id changed
    members: list[str] = field(default_factory=list)
    changed: bool = False
    founder: str = ""  # message whose id names the network
    absorbed_founders: list[str] = field(default_factory=list)  # founders of ``merged_ids``


class Networks:
    """Union-find of messages over a mutable mapping (keys ``p:<msg>`` and ``n:<root>``)."""

    def __init__(self, store: MutableMapping[str, Any]) -> None:
        self.store = store

    def _root(self, message_id: str) -> str | None:
        node = message_id
        path = []
        while True:
            parent = self.store.get(f"p:{node}")
            if parent is None:  # only a message never linked has no entry
                return None
            if parent == node:
                break
            path.append(node)
            node = parent
        for child in path[:-1]:  # path compression; the last one already points at the root
            self.store[f"p:{child}"] = node
        return node

    def network_of(self, message_id: str) -> dict[str, Any] | None:
        """The network record of a message (id, founder, members, merged ids), if any."""
        root = self._root(message_id)
        if root is None:
            return None
        record: dict[str, Any] | None = self.store.get(f"n:{root}")
        return record

    def _ensure(self, message_id: str, created_at: str) -> str:
        root = self._root(message_id)
        if root is not None:
            return root
        self.store[f"p:{message_id}"] = message_id
        self.store[f"n:{message_id}"] = {
            "network_id": network_id_of(message_id),
            "founder": [created_at, message_id],
            "members": [message_id],
            "merged_ids": [],
        }
        return message_id

    def add_link(self, a: str, a_created: str, b: str, b_created: str) -> NetworkChange:
        """Join the networks of messages a and b (created_at ISO strings order them)."""
        ra, rb = self._ensure(a, a_created), self._ensure(b, b_created)
        na, nb = self.store[f"n:{ra}"], self.store[f"n:{rb}"]
        if ra == rb:
            return NetworkChange(
                na["network_id"], members=list(na["members"]), founder=na["founder"][1]
            )
        keep, gone = (na, nb) if tuple(na["founder"]) <= tuple(nb["founder"]) else (nb, na)
        keep_root, gone_root = keep["founder"][1], gone["founder"][1]
        merged = {
            "network_id": keep["network_id"],
            "founder": keep["founder"],
            "members": sorted(set(keep["members"]) | set(gone["members"])),
            "merged_ids": sorted(set(keep["merged_ids"]) | set(gone["merged_ids"])
                                 | ({gone["network_id"]} if len(gone["members"]) > 1 else set())),
        }  # fmt: skip
        self.store[f"p:{gone_root}"] = keep_root
        self.store[f"n:{keep_root}"] = merged
        del self.store[f"n:{gone_root}"]
        # A singleton joining a network is growth, not a merge of two networks.
        merged_now = [gone["network_id"]] if len(gone["members"]) > 1 else []
        renamed = list(gone["members"])
        if len(keep["members"]) == 1:
            renamed += keep["members"]
        return NetworkChange(keep["network_id"], merged_now, sorted(renamed), merged["members"],
                             True, keep_root, [gone_root] if merged_now else [])  # fmt: skip


# ``message_links`` value of a withdrawn or superseded message: its links are removed and
# new ones ignored (networks are not split: their ids stay stable).
WITHDRAWN = "WITHDRAWN"


def withdraw_links(
    message_links: MutableMapping[str, Any], gone: str
) -> tuple[list[str], set[str]]:
    """Remove a withdrawn message's links from it and its partners; mark it ``WITHDRAWN``.

    Returns the ids of the removed links and the partners whose links changed. A second
    withdrawal of the same message (a replay after a crash) changes nothing.
    """
    previous = message_links.get(gone)
    removed: list[str] = []
    touched: set[str] = set()
    for old in previous if isinstance(previous, list) else []:
        removed.append(old["link_id"])
        for partner in set(old["message_ids"]) - {gone}:
            mine = message_links.get(partner)
            if isinstance(mine, list):
                message_links[partner] = [x for x in mine if x["link_id"] != old["link_id"]]
                touched.add(partner)
    message_links[gone] = WITHDRAWN  # later links to it are ignored
    return removed, touched
