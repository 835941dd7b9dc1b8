"""Measured figures, one home (`estbench.measured`): a bench's file round-trips, the README table is rendered from the
files, and the card quotes a figure only when it was measured on the data it describes."""

from __future__ import annotations

import json

import pytest

from estbench import measured
from estbench.dataset.card import paper_scale_size


def _record(folder, name, rows, **kwargs):
    return measured.record(folder / f"{name}.json", bench=name, command=f"python bench/bench_{name}.py", rows=rows,
                           **kwargs)


def test_a_recorded_file_reads_back_with_its_machine_and_digest(tmp_path):
    path = _record(tmp_path, "build", [measured.Row("build", "20.8 s", "≤ 60 s")], values={"sessions": 9},
                   data_digest="abc")
    back = measured.read(path)
    assert back.rows == (measured.Row("build", "20.8 s", "≤ 60 s"),) and back.values == {"sessions": 9}
    assert back.data_digest == "abc" and "CPUs" in back.machine and len(back.measured_at) == 10
    with pytest.raises(ValueError, match="nothing measured"):
        _record(tmp_path, "empty", [])
    (tmp_path / "broken.json").write_text(json.dumps({"bench": "x"}), encoding="utf-8")
    with pytest.raises(ValueError, match="broken.json: not a measured-figures file"):
        measured.read(tmp_path / "broken.json")


def test_the_table_follows_the_benches_order_and_replaces_only_its_section(tmp_path):
    _record(tmp_path, "metric", [measured.Row("score", "0.1 s", "≤ 0.3 s")])
    _record(tmp_path, "build", [measured.Row("build", "20 s")])
    table = measured.markdown_table(measured.read_all(tmp_path))
    assert table.splitlines()[2:] == ["| build | 20 s | - | `python bench/bench_build.py` |",
                                      "| score | 0.1 s | ≤ 0.3 s | `python bench/bench_metric.py` |"]
    text = f"# doc\n\nbefore\n{measured.BEGIN}\nold row\n{measured.END}\nafter\n"
    updated = measured.with_section(text, table)
    assert measured.section(updated) == table and updated.startswith("# doc\n\nbefore\n") and "old row" not in updated
    assert updated.endswith(f"{measured.END}\nafter\n") and measured.section("no markers") == ""


def test_the_card_quotes_the_size_only_when_measured_on_its_data(tmp_path):
    values = {"context_turns": 4, "sessions": 90_000, "user_utterances": 1_614_899, "on_disk_bytes": 431_300_000,
              "context_bytes": 190_000_000, "full_history_bytes": 1_400_000_000}
    build = measured.read(_record(tmp_path, "build", [measured.Row("build", "x")], values=values, data_digest="d1"))
    assert measured.matching(build, "d1") is build
    assert measured.matching(build, "d2") is None and measured.matching(build, "") is None
    quoted = paper_scale_size(measured.matching(build, "d1"))
    assert quoted.startswith("431 MB of Parquet for every config with k = 4") and "1,614,899 user utterances" in quoted
    assert paper_scale_size(measured.matching(build, "d2")).startswith("not measured on this data")
