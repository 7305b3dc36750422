"""`adapters.__all__` names exactly the public members, as httpx's test of the same name does."""

from __future__ import annotations

import adapters


def test_all_names_exist_and_every_public_member_is_listed() -> None:
    exported = set(adapters.__all__)
    public = {
        name
        for name in dir(adapters)
        if not name.startswith("_") and not isinstance(getattr(adapters, name), type(adapters))
    }

    assert all(hasattr(adapters, name) for name in exported)
    assert public - {"annotations", "Callable", "Mapping"} == exported
