"""District presets for the two-tier counties the project started from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    county: str
    council: str
    districts: tuple[str, ...]


PRESETS: dict[str, Preset] = {
    "lancashire": Preset(
        county="Lancashire",
        council="Lancashire County Council",
        districts=(
            "Burnley",
            "Chorley",
            "Fylde",
            "Hyndburn",
            "Lancaster",
            "Pendle",
            "Preston",
            "Ribble Valley",
            "Rossendale",
            "South Ribble",
            "West Lancashire",
            "Wyre",
        ),
    ),
    "leicestershire": Preset(
        county="Leicestershire",
        council="Leicestershire County Council",
        districts=(
            "Blaby",
            "Charnwood",
            "Harborough",
            "Hinckley and Bosworth",
            "Melton",
            "North West Leicestershire",
            "Oadby and Wigston",
        ),
    ),
}
