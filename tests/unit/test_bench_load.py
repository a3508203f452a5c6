"""The load benchmark's bookkeeping (bench/load.py): reading CPU time from /proc text,
adding a program's descendants to it, and the report it prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.gateway_vs_rasa import Result
from bench.load import (
    CLOCK_TICKS,
    GATEWAY,
    KINDS,
    RAW,
    Reading,
    Size,
    Window,
    cpu_between,
    machine_busy,
    parse_sizes,
    parse_stat,
    projection,
    report,
    tree_cpu,
)


def stat_line(pid: int, comm: str, ppid: int, ticks: tuple[int, int, int, int]) -> str:
    """A /proc/<pid>/stat line: pid (comm) state ppid ... utime stime cutime cstime ..."""
    middle = " ".join(["0"] * 9)  # pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
    return f"{pid} ({comm}) S {ppid} {middle} {' '.join(map(str, ticks))} 20 0 1 0\n"


def test_a_stat_line_gives_parent_and_cpu_seconds_even_with_spaces_in_the_name() -> None:
    line = stat_line(42, "postgres: giaitrinh (idle)", 7, (100, 50, 30, 20))
    assert parse_stat(line) == (42, 7, 200 / CLOCK_TICKS)


def test_a_programs_cpu_counts_its_descendants_and_nothing_else() -> None:
    procs = {
        10: (1, 1.0),  # engine1: giaitrinh engine
        11: (10, 5.0),  # its rasa run
        12: (11, 0.5),  # a grandchild
        20: (1, 2.0),  # postgres (runuser)
        21: (20, 3.0),
        22: (21, 4.0),  # a backend
        30: (1, 99.0),  # someone else's process
    }
    totals = tree_cpu(procs, {"engine1": 10, "postgres": 20, "gateway1": 77})
    assert totals == {**dict.fromkeys(KINDS, 0.0), "engine": 6.5, "postgres": 9.0}


def test_machine_busy_time_leaves_out_idle_and_iowait() -> None:
    text = "cpu  100 10 40 1000 50 5 5 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
    assert machine_busy(text) == pytest.approx(160 / CLOCK_TICKS)


def test_other_work_is_what_the_machine_used_beyond_the_cluster_and_the_client() -> None:
    before = Reading(machine=100.0, client=1.0, kinds={"engine": 10.0, "gateway": 5.0})
    after = Reading(machine=112.0, client=1.5, kinds={"engine": 14.0, "gateway": 7.0})
    assert cpu_between(before, after) == {
        "engine": 4.0,
        "gateway": 2.0,
        "client": 0.5,
        "other": 5.5,
    }


def test_sizes_are_read_as_engines_by_gateways() -> None:
    sizes = parse_sizes("1x1, 2x1,1x2")
    assert [(s.engines, s.gateways) for s in sizes] == [(1, 1), (2, 1), (1, 2)]


def fake_size(engines: int, gateways: int, throughput: float) -> Size:
    """A size whose runs took 10 s each, with 10 ms of engine CPU per message."""
    size = Size(engines, gateways, load=("1.00 1.00 1.00", "2.00 1.00 1.00"), turns=[1] * engines)
    for path in (RAW, GATEWAY):
        messages = int(throughput * 10)
        cpu = {k: 0.0 for k in (*KINDS, "client", "other")}
        cpu.update(engine=0.010 * messages, gateway=0.005 * messages, postgres=0.005 * messages)
        result = Result(path, messages, 10.0, [0.1] * messages)
        size.runs[path].append(Window(result, cpu))
    return size


def test_the_projection_spends_every_core_on_the_measured_cpu_per_message() -> None:
    throughput, cores = projection([fake_size(1, 1, 30.0), fake_size(2, 2, 40.0)], 8)
    assert throughput == pytest.approx(8 / 0.020)
    assert cores["engine"] == pytest.approx(4.0) and cores["postgres"] == pytest.approx(2.0)


def test_the_report_prints_the_gain_of_a_second_engine(capsys: pytest.CaptureFixture[str]) -> None:
    sizes = [fake_size(1, 1, 30.0), fake_size(2, 1, 48.0)]
    report(sizes, Path("m.tar.gz"), users=16, rounds=5, repeats=1)
    out = capsys.readouterr().out
    assert "2 engines / 1 engine, 1 gateway(s): 1.60×" in out, out
    assert "| 1 | 1 | 30.0 |" in out, out
