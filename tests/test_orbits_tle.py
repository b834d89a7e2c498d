"""TLE loading and validation: every malformed input names its line; good input round-trips."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from sgp4.api import Satrec

from orbits import TLEError, default_constellation, load_tle
from orbits.tle import tle_checksum

NAME = "STARLINK-1007"
L1 = "1 44713U 19074A   23198.31707558  .00000584  00000+0  58057-4 0  9994"
L2 = "2 44713  53.0547 204.8335 0000977  90.1304 269.9797 15.06399147203267"
NAME_B = "STARLINK-1008"
L1B = "1 44714U 19074B   23199.29111362  .00001226  00000+0  10120-3 0  9997"
L2B = "2 44714  53.0539 200.4639 0000996  78.6811 281.4290 15.06396840203414"


def fix_checksum(line: str) -> str:
    return line[:68] + str(tle_checksum(line))


def three_line(*sets) -> str:
    return "".join(f"{n}\n{a}\n{b}\n" for n, a, b in sets)


def test_checksum_matches_shipped_lines():
    # independent: the checksum digit printed in real CelesTrak lines
    for line in (L1, L2, L1B, L2B):
        assert tle_checksum(line) == int(line[68])


def test_three_and_two_line_sets_agree_with_sgp4():
    c3 = load_tle(three_line((NAME, L1, L2), (NAME_B, L1B, L2B)))
    c2 = load_tle(f"{L1}\n{L2}\n{L1B}\n{L2B}\n")
    assert list(c3.sat_ids) == [44713, 44714]
    assert list(c3.names) == [NAME, NAME_B]
    assert list(c2.sat_ids) == [44713, 44714]
    ref = Satrec.twoline2rv(L1, L2)
    for c in (c2, c3):
        assert c.satrecs[0].no_kozai == ref.no_kozai
        assert c.satrecs[0].jdsatepochF == ref.jdsatepochF
    # epoch 23198.31707558 = 2023-07-17 07:36:35.330 UTC
    delta = (c3.epochs_utc[0] - pd.Timestamp("2023-07-17T07:36:35.330112Z")).total_seconds()
    assert abs(delta) < 1e-3
    # "0 NAME" (CelesTrak 3LE) prefix is accepted
    c0 = load_tle(three_line(("0 " + NAME, L1, L2)))
    assert c0.names[0] == NAME


def test_hash_is_sha256_of_canonical_text_and_order_free():
    a = load_tle(three_line((NAME, L1, L2), (NAME_B, L1B, L2B)))
    b = load_tle(three_line((NAME_B, L1B, L2B), (NAME, L1, L2)))
    assert a.tle_hash() == b.tle_hash()
    text = f"{NAME}\n{L1}\n{L2}\n{NAME_B}\n{L1B}\n{L2B}\n"
    assert a.tle_hash() == hashlib.sha256(text.encode()).hexdigest()
    sub = a.subset([44714])
    assert len(sub) == 1 and sub.sat_ids[0] == 44714 and sub.tle_hash() != a.tle_hash()
    with pytest.raises(KeyError, match="12345"):
        a.subset([12345])


def test_default_constellation_is_the_shipped_snapshot():
    c = default_constellation()
    assert len(c) == 4428
    assert c.sat_ids.dtype == np.int64 and len(set(c.sat_ids.tolist())) == 4428
    assert c.epochs_utc.max() < pd.Timestamp("2023-07-19", tz="UTC")


def _raises(text: str, line: int, match: str):
    with pytest.raises(TLEError, match=match) as info:
        load_tle(text, source="bad.tle")
    assert info.value.line_number == line
    msg = str(info.value)
    assert msg.startswith(f"bad.tle:{line}:") and "expected" in msg and "fix:" in msg
    assert "\n" not in msg


def test_bad_checksum():
    bad = L1[:68] + str((int(L1[68]) + 1) % 10)
    _raises(three_line((NAME, bad, L2)), 2, "checksum")


def test_truncated_line():
    _raises(three_line((NAME, L1, L2), (NAME_B, L1B, L2B[:50])), 6, "69-column")


def test_swapped_line_order():
    _raises(three_line((NAME, L2, L1)), 2, "line 1 .* before line 2")


def test_missing_line_two():
    _raises(f"{NAME}\n{L1}\n{NAME_B}\n{L1B}\n{L2B}\n", 3, "line 2")


def test_mismatched_catalogue_numbers():
    l2 = fix_checksum(L2[:2] + "44799" + L2[7:])
    _raises(three_line((NAME, L1, l2)), 3, "catalogue number 44713")


def test_non_numeric_field():
    l2 = fix_checksum(L2[:8] + " 53.O547" + L2[16:])  # letter O instead of zero
    _raises(three_line((NAME, L1, l2)), 3, "inclination")
    l1 = fix_checksum(L1[:20] + "198.3170755x" + L1[32:])
    _raises(three_line((NAME, l1, L2)), 2, "epoch")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.tle"
    path.write_text("\n  \n")
    with pytest.raises(TLEError, match="empty.tle: expected at least one") as info:
        load_tle(path)
    # no line to blame: line_number 0 (documented), and the message says what was found
    assert info.value.line_number == 0 and ", got " in str(info.value)
    with pytest.raises(TLEError, match="expected at least one"):
        load_tle("")


def test_dangling_name():
    _raises(three_line((NAME, L1, L2)) + "LONELY\n", 4, "line 1 and line 2")


def test_decayed_orbit():
    # mean motion 17.9 rev/day: semi-major axis below the Earth's radius (sub-orbital)
    l2 = fix_checksum(L2[:52] + "17.90000000" + L2[63:])
    _raises(three_line((NAME, L1, l2)), 2, "decayed orbit")


def test_duplicate_catalogue_numbers():
    with pytest.raises(TLEError, match="duplicates"):
        load_tle(three_line((NAME, L1, L2), (NAME, L1, L2)))


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_tle(tmp_path / "nope.tle")
