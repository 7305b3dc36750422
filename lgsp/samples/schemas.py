"""What `GET {base}/admin/samples` answers."""

from __future__ import annotations

from pydantic import BaseModel


class Samples(BaseModel):
    instance: str
    samples: dict[str, list[str]]
