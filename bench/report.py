"""Turn the benchmark's raw numbers into the printed table and bench/results.md.

Numbers without the machine are meaningless (SQLite's fsync cost and the
core count dominate), so the machine is always written first.
"""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict:
    """CPU model, cores, RAM, Python, kernel, date, and the checkout measured."""
    cpu = "unknown"
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                   if line.startswith("MemTotal:")), 0)
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except OSError:
        commit, dirty = "", ""
    import sqlite3

    import falcon
    import gunicorn

    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable, "ram_gb": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "kernel": platform.release(),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": commit + ("+local changes" if dirty else ""), "sqlite": sqlite3.sqlite_version,
            "gunicorn": gunicorn.__version__, "falcon": falcon.__version__}


def filesystem_of(path: Path) -> str:
    """The filesystem holding the store (tmpfs vs a disk changes fsync cost by orders of magnitude)."""
    best, kind = "", "unknown"
    for line in _read("/proc/mounts").splitlines():
        parts = line.split()
        if len(parts) >= 3 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
            best, kind = parts[1], parts[2]
    return f"{kind} ({best})"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _f(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def checks(results: dict) -> list[tuple[str, bool, str]]:
    """The burst's pass/fail lines: (what, passed, measured)."""
    b = results.get("burst")
    if not b:
        return []
    new = b["kinds"].get("new", 0)
    return [
        ("every text accepted (2xx)", b["accept"].get("ok") == b["texts"], f"{b['accept'].get('ok')}/{b['texts']}"),
        ("drained (no job left pending)", bool(b["drained"]), "yes" if b["drained"] else "timed out"),
        ("duplicates = 0", b["duplicates"] == 0, f"{b['duplicates']} texts ({b['duplicate_threads']} extra threads)"),
        ("lost = 0", b["lost"] == 0, str(b["lost"])),
        ("dead letters = 0", b["job_states"].get("dead", 0) == 0, str(b["job_states"].get("dead", 0))),
        ("one auto-reply per new supporter", b["new_with_one_auto_reply"] == new,
         f"{b['new_with_one_auto_reply']}/{new} (none: {b['new_without_auto_reply']}, "
         f"repeated: {b['new_with_repeated_auto_reply']})"),
        ("no auto-reply to returning supporters", b["returning_with_auto_reply"] == 0, str(b["returning_with_auto_reply"])),
        ("returning texts join their conversation", b["returning_in_new_conversation"] == 0,
         f"{b['returning_in_new_conversation']} opened a new one"),
        ("one conversation per new supporter", b["new_with_extra_conversations"] == 0,
         f"{b['new_with_extra_conversations']} with more"),
        ("no failure texts", b["failure_texts"] == 0, str(b["failure_texts"])),
    ]


def verdict(results: dict) -> bool:
    return all(passed for _, passed, _ in checks(results))


def rows(results: dict) -> list[tuple[str, list[tuple[str, ...]]]]:
    """Sections of (label, value…) rows shared by the table and the Markdown."""
    sections = []
    lat = results.get("latency")
    if lat:
        f, b, r = lat["floor"], lat["bling"], lat["ratio"]
        sections.append((
            f"Answer latency: POST /bling/twilio_sms, {lat['requests']:,} signed requests per target, "
            f"{lat['clients']} concurrent clients, {lat['workers']} gunicorn workers, {lat.get('rounds', 1)} alternating rounds "
            f"(load average before / after: {' '.join(f'{x:.1f}' for x in lat.get('loadavg_before', []))} / "
            f"{' '.join(f'{x:.1f}' for x in lat.get('loadavg_after', []))})",
            [("", "floor", "Bling", "Bling / floor"),
             ("p50 (ms)", _f(f["p50_ms"], 2), _f(b["p50_ms"], 2), f"{r['p50']:.1f}×"),
             ("p99 (ms)", _f(f["p99_ms"], 2), _f(b["p99_ms"], 2), f"{r['p99']:.1f}×"),
             ("mean (ms)", _f(f["mean_ms"], 2), _f(b["mean_ms"], 2), ""),
             ("throughput (req/s)", _f(f["throughput_rps"], 0), _f(b["throughput_rps"], 0), f"{r['throughput']:.2f}×"),
             ("answers 2xx", f"{f['ok']:,}/{f['requests']:,}", f"{b['ok']:,}/{b['requests']:,}", ""),
             ("client errors", str(f["errors"]), str(b["errors"]), ""),
             ("throughput by round (req/s)", " / ".join(map(str, f.get("throughput_by_round", []))),
              " / ".join(map(str, b.get("throughput_by_round", []))), ""),
             ("peak RSS per web worker (MB)", _f(f.get("web_peak_rss_mb")), _f(b.get("web_peak_rss_mb")), "")]))
    bu = results.get("burst")
    if bu:
        k = bu["kinds"]
        by = bu["units_per_delivered_text_by_kind"]
        lost_by = bu["lost_by_kind"]
        acc = bu["accept"]
        kill = bu.get("kill") or {}
        sections.append((
            f"Burst: {bu['texts']:,} texts at once ({k.get('new', 0)} new supporters, {k.get('mapped', 0)} returning in "
            f"Bling's map, {k.get('searched', 0)} returning found by search), Help Scout limit "
            f"{bu['limit_per_minute']} units/min, `bling serve` (web + worker), worker SIGKILLed mid-burst",
            [("accept latency under the burst p50 / p99 (ms)", f"{_f(acc.get('p50_ms'), 1)} / {_f(acc.get('p99_ms'), 1)}"),
             ("Help Scout units charged (GET 1, write 2)", f"{bu['units']:,} ({bu['gets']:,} GETs, {bu['writes']:,} writes)"),
             ("units per text delivered: all / new / mapped / searched",
              f"{bu['units_per_delivered_text']:.2f} / {_f(by.get('new'), 2)} / {_f(by.get('mapped'), 2)} / {_f(by.get('searched'), 2)}"),
             ("units on Bling's designed path, nothing wasted", f"{bu['expected_units_no_waste']:,} "
              f"({' / '.join(str(u) for u in bu.get('designed_units', {}).values())} per new / mapped / searched text)"),
             ("Help Scout requests: method path status × count",
              "; ".join(f"{k} × {n}" for k, n in bu.get("requests_by_endpoint", {}).items())),
             ("time to drain (s)", _f(bu["drain_s"]) if bu["drained"] else f"not drained in {bu['timeout_s']:.0f}"),
             ("last text reached Help Scout at (s)", _f(bu["last_thread_s"])),
             ("… leaving out the killed worker's jobs (s)", _f(bu["last_thread_s_but_killed_jobs"])),
             ("minimum the limit allows: units / 200 per min (s)", _f(bu["min_drain_s_at_limit"])),
             ("minimum at Bling's 80 % budget (s)", _f(bu["min_drain_s_at_budget"])),
             ("drain / minimum at the limit",
              f"{bu['drain_s'] / bu['min_drain_s_at_limit']:.2f}×" if bu["drained"] and bu["min_drain_s_at_limit"]
              and not bu["lost"] else "– (texts were lost: the queue emptied by burying them)"),
             ("throughput: texts into Help Scout per minute / units per minute",
              f"{(bu['texts'] - bu['lost']) / bu['last_thread_s'] * 60:.1f} / {bu['units'] / bu['last_thread_s'] * 60:.0f}"
              if bu["last_thread_s"] else "–"),
             ("first come, first served? (rank correlation of sending and arrival order; 1 = FIFO)",
              _f(bu.get("fifo_rank_correlation"), 2)),
             ("jobs claimed only to wait again (worker logs: \"will retry\")",
              ", ".join(f"{k} {v:,}" for k, v in bu.get("deferrals", {}).items()) or "0"),
             ("429s provoked", str(bu["http_429"])),
             ("duplicates (texts posted more than once)", str(bu["duplicates"])),
             ("lost (texts never in Help Scout): new / mapped / searched",
              f"{bu['lost']} ({lost_by.get('new', 0)} / {lost_by.get('mapped', 0)} / {lost_by.get('searched', 0)})"),
             ("auto-replies (new supporters with exactly one)", f"{bu['auto_replies']} ({bu['new_with_one_auto_reply']}/{k.get('new', 0)})"),
             ("failure texts sent", str(bu["failure_texts"])),
             ("job states", ", ".join(f"{s} {n}" for s, n in sorted(bu["job_states"].items()))),
             ("attempts per job: mean / max", f"{bu['attempts_mean']:.1f} / {bu['attempts_max']}"),
             ("dead-letter reasons", ", ".join(f"{r} {n}" for r, n in bu["dead_reasons"].items()) or "–"),
             ("worker SIGKILLed at (s) / texts already in Help Scout",
              f"{_f(kill.get('at_s'))} / {kill.get('texts_in_helpscout', '–')}" if kill else "not killed"),
             ("jobs it held; settled (s after the kill)",
              ", ".join(f"#{o['id']} {o['state']} {o['settled_s_after_kill']:.0f}" for o in bu["orphans"]) or "none"),
             ("huey rows left (results kv / tasks / scheduled)",
              " / ".join(str(bu["huey_rows_left"].get(t)) for t in ("kv", "task", "schedule")))]))
        m = bu["memory"]
        sections.append(("Peak memory (VmHWM) during the burst", [
            ("web: gunicorn worker, max (MB)", _f(m.get("web_peak_mb"))),
            ("web: gunicorn master (MB)", _f(m.get("gunicorn_master_mb"))),
            ("worker: the one SIGKILLed (MB)", _f(m.get("worker_killed_mb", m.get("worker_mb")))),
            ("worker: its replacement, at the end (MB)", _f(m.get("worker_replacement_mb")))]))
        sections.append(("Checks", [(what, "PASS" if ok else "FAIL", got) for what, ok, got in checks(results)]))
    return sections


def table(results: dict) -> str:
    """Plain-text table for the terminal."""
    out = []
    for title, lines in rows(results):
        out.append(title)
        widths = [max(len(line[i]) for line in lines if i < len(line)) for i in range(max(map(len, lines)))]
        for line in lines:
            out.append("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        out.append("")
    return "\n".join(out)


def markdown(results: dict) -> str:
    """bench/results.md: machine, parameters, then each section as a table."""
    m = results["machine"]
    a = results["args"]
    out = [f"# Bling benchmark results ({results['mode']} run)", "",
           "Produced by `.venv/bin/python bench/run.py" + (" --quick" if results["mode"] == "quick" else "") +
           "`; what each number means: [README.md](README.md).", "",
           "## Machine", "",
           f"- CPU: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable)",
           f"- RAM: {m['ram_gb']} GB",
           f"- Python {m['python']}, Linux {m['kernel']}, SQLite {m['sqlite']}, gunicorn {m['gunicorn']}, falcon {m['falcon']}",
           f"- Store: SQLite in a temp dir on {m.get('store_filesystem', '?')}",
           f"- Date: {m['date']}; checkout {m['commit']}",
           f"- Parameters: texts {a['texts']}, returning share {a['returning']}, requests {a['requests']} "
           f"(+{a['warmup']} warm-up), clients {a['clients']}, gunicorn workers {a['workers']}, "
           f"Help Scout limit {a['limit']}/min, doubles' latency {float(a['double_latency']) * 1000:.0f} ms, "
           f"kill at {a['kill_at']}",
           f"- Logs and raw numbers: `{results['logs']}/` (not committed)", ""]
    for title, lines in rows(results):
        if lines[0][0] == "":  # the section brings its own header row
            head, body = lines[0], lines[1:]
        else:
            head, body = ("", "value") if len(lines[0]) == 2 else ("check", "result", "measured"), lines
        out += [f"## {title}", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        out += ["| " + " | ".join(line) + " |" for line in body]
        out.append("")
    return "\n".join(out)
