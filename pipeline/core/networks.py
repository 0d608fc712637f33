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
    changed: bool = False
    founder: str = ""  # message whose id names the network
    absorbed_founders: list[str] = field(default_factory=list)  # founders of ``merged_ids``


# Members are kept in chunks of this many ids (keys ``m:<root>:<i>``): a message joining a
# network rewrites one chunk, not a list of every member (one network of 2,247 messages in
# 3,000 generated ones made that list 83 MB of changelog and most of the stage's time).
CHUNK = 64


class Networks:
    """Union-find of messages over a mutable mapping.

    Keys: ``p:<msg>`` (parent), ``n:<root>`` (the network record: id, founder, merged ids,
    size, number of member chunks) and ``m:<root>:<i>`` (member chunks).
    """

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
        """The network record of a message (id, founder, merged ids, size), if any."""
        root = self._root(message_id)
        if root is None:
            return None
        record: dict[str, Any] | None = self.store.get(f"n:{root}")
        return record

    def members(self, message_id: str) -> list[str]:
        """Every message in the network of ``message_id``, sorted (empty if never linked)."""
        root = self._root(message_id)
        return sorted(self._members(root)) if root is not None else []

    def _members(self, root: str) -> list[str]:
        record = self.store[f"n:{root}"]
        if "members" in record:  # a record written before members were chunked
            return list(record["members"])
        out: list[str] = []
        for i in range(record["chunks"]):
            out += self.store[f"m:{root}:{i}"]
        return out

    def _ensure(self, message_id: str, created_at: str) -> str:
        root = self._root(message_id)
        if root is not None:
            return root
        self.store[f"p:{message_id}"] = message_id
        self.store[f"n:{message_id}"] = {
            "network_id": network_id_of(message_id),
            "founder": [created_at, message_id],
            "merged_ids": [],
            "size": 1,
            "chunks": 1,
        }
        self.store[f"m:{message_id}:0"] = [message_id]
        return message_id

    def _move_members(self, keep: str, record: dict[str, Any], gone: str, moved: list[str]) -> None:
        """Append ``moved`` to ``keep``'s chunks (only the last one is rewritten); drop ``gone``'s."""
        if "members" in record:  # convert a record written before members were chunked
            current, record["chunks"] = record.pop("members"), 0
        else:
            last = record["chunks"] - 1
            current, record["chunks"] = list(self.store[f"m:{keep}:{last}"]), last
        current += moved
        for i in range(0, len(current), CHUNK):
            self.store[f"m:{keep}:{record['chunks']}"] = current[i : i + CHUNK]
            record["chunks"] += 1
        gone_record = self.store[f"n:{gone}"]
        for i in range(gone_record.get("chunks", 0)):
            del self.store[f"m:{gone}:{i}"]
        del self.store[f"n:{gone}"]

    def add_link(self, a: str, a_created: str, b: str, b_created: str) -> NetworkChange:
        """Join the networks of messages a and b (created_at ISO strings order them)."""
        ra, rb = self._ensure(a, a_created), self._ensure(b, b_created)
        na, nb = self.store[f"n:{ra}"], self.store[f"n:{rb}"]
        if ra == rb:
            return NetworkChange(na["network_id"], founder=na["founder"][1])
        keep, gone = (na, nb) if tuple(na["founder"]) <= tuple(nb["founder"]) else (nb, na)
        keep_root, gone_root = keep["founder"][1], gone["founder"][1]
        keep_size, gone_size = _size(keep), _size(gone)
        # A singleton joining a network is growth, not a merge of two networks.
        merged_now = [gone["network_id"]] if gone_size > 1 else []
        moved = self._members(gone_root)
        renamed = [*moved, keep_root] if keep_size == 1 else moved
        merged = {
            **keep,
            "merged_ids": sorted(
                set(keep["merged_ids"]) | set(gone["merged_ids"]) | set(merged_now)
            ),
            "size": keep_size + gone_size,
        }
        self._move_members(keep_root, merged, gone_root, moved)
        self.store[f"p:{gone_root}"] = keep_root
        self.store[f"n:{keep_root}"] = merged
        return NetworkChange(
            keep["network_id"],
            merged_now,
            sorted(renamed),
            True,
            keep_root,
            [gone_root] if merged_now else [],
        )


def _size(record: dict[str, Any]) -> int:
    return len(record["members"]) if "members" in record else int(record["size"])


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


def record_link(
    nets: Networks,
    message_links: MutableMapping[str, Any],
    link: dict[str, Any],
    created: dict[str, str],
) -> NetworkChange | None:
    """Join the networks of a link's two messages and keep the link on both.

    None when either message was withdrawn: no link, no notice. Recording a link twice
    changes nothing (a replay after a crash).
    """
    ma, mb = link["message_ids"]
    if WITHDRAWN in (message_links.get(ma), message_links.get(mb)):
        return None
    change = nets.add_link(ma, created[ma], mb, created[mb])
    for mid in (ma, mb):
        kept = [x for x in message_links.get(mid) or [] if x["link_id"] != link["link_id"]]
        message_links[mid] = [*kept, link]
    return change
