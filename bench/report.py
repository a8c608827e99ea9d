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


def _bursts(results: dict) -> dict[str, dict]:
    """The bursts that ran, by store label (sqlite, postgresql); failed ones are left out."""
    return {label: b for label, b in (results.get("bursts") or {}).items() if "error" not in b}


def checks(burst: dict) -> list[tuple[str, bool, str]]:
    """One burst's correctness lines: (what, passed, measured)."""
    b = burst
    new = b["kinds"].get("new", 0)
    r = b["agent_replies"]
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
        ("every agent reply texted once, its note posted", r["sms_sent"] == r["replies"] == r["sms_total"]
         and r["notes_posted"] == r["replies"],
         f"{r['sms_sent']}/{r['replies']} texted ({r['sms_total']} SMS), {r['notes_posted']}/{r['replies']} notes"),
    ]


def verdict(results: dict) -> bool:
    bursts = results.get("bursts") or {}
    return all("error" not in b for b in bursts.values()) and all(
        passed for b in _bursts(results).values() for _, passed, _ in checks(b))


def _ratio(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}×"


def figures(results: dict) -> list[tuple[str, str, dict[str, str], bool | None]]:
    """Issue 11's numbers: (figure, target, {store: measured}, met?) — met is None when not measured."""
    out: list[tuple[str, str, dict[str, str], bool | None]] = []
    bursts = _bursts(results)

    def per_burst(figure: str, target: str, value, render, ok) -> None:
        values = {label: value(b) for label, b in bursts.items()}
        measured = {label: render(v, bursts[label]) for label, v in values.items()}
        met = [ok(v) for v in values.values() if v is not None]
        out.append((figure, target, measured, all(met) if met else None))

    def by_kind(kind: str):
        return lambda b: b["units_per_delivered_text_by_kind"].get(kind)

    if bursts:
        design = next(iter(bursts.values()))["designed_units"]
        for kind, limit in (("new", 3.0), ("mapped", 2.0), ("searched", 4.0)):
            per_burst(f"1. units per {kind} text (designed ≤ {design[kind]})", f"≤ {limit:.1f}" if kind != "mapped"
                      else "2.0", by_kind(kind), lambda v, b: _f(v, 2), lambda v, lim=limit: v <= lim + 1e-6)
        per_burst("1. units per text, mixed burst", "≤ 2.9", lambda b: b["units_per_delivered_text"],
                  lambda v, b: f"{v:.2f} (+{b['units_replies']:.0f} for replies' notes, {b['units_other']:.0f} other; "
                               f"{b['supporters_per_search']:.1f} supporters per search)", lambda v: v <= 2.9)
        per_burst("2. order: rank correlation sending vs arrival", "≥ 0.95", lambda b: b["fifo_rank_correlation"],
                  lambda v, b: _f(v, 3), lambda v: v >= 0.95)
        per_burst("2. wait p95 (accepted → thread) vs strict FIFO at the budget", "≤ 1.1×",
                  lambda b: b["wait_p95_ratio"],
                  lambda v, b: f"{_ratio(v)} ({_f(b['wait_p95_s'])} s vs {_f(b['fifo_wait_p95_s'])} s)",
                  lambda v: v <= 1.1)
        per_burst("3. waste: claims that only waited again / jobs", "≤ 1 %", lambda b: b["waste_share"],
                  lambda v, b: f"{v:.1%} ({b['waits_again']['HelpScoutRateLimited']:,} of {b['jobs']:,}; "
                               f"+{b['waits_again']['moved_to_helpscout_lane']} replies moved to the helpscout lane)",
                  lambda v: v <= 0.01)
        per_burst("3. 429s provoked", "0", lambda b: b["http_429"], lambda v, b: str(v), lambda v: v == 0)
        per_burst("4. drain / minimum at Bling's budget (worker SIGKILLed)", "≤ 1.1×",
                  lambda b: b["drain_s"] / b["min_drain_s_at_budget"] if b["drained"] and b["min_drain_s_at_budget"]
                  else None,
                  lambda v, b: f"{_ratio(v)} ({_f(b['drain_s'])} s vs {_f(b['min_drain_s_at_budget'])} s)",
                  lambda v: v <= 1.1)
        per_burst("4. lost / duplicated", "0 / 0", lambda b: (b["lost"], b["duplicates"]),
                  lambda v, b: f"{v[0]} / {v[1]}", lambda v: v == (0, 0))
        per_burst("4. new supporters with exactly one auto-reply", "all", lambda b: b["new_with_one_auto_reply"],
                  lambda v, b: f"{v}/{b['kinds'].get('new', 0)}", lambda v: True)
        out[-1] = out[-1][:3] + (all(b["new_with_one_auto_reply"] == b["kinds"].get("new", 0) for b in bursts.values()),)
        per_burst("5. agent reply SMS after the webhook: p50 / p95 (s)", "p95 ≤ 5",
                  lambda b: b["agent_replies"]["sms_p95_s"],
                  lambda v, b: f"{_f(b['agent_replies']['sms_p50_s'], 2)} / {_f(v, 2)} "
                               f"({b['agent_replies']['sms_sent']}/{b['agent_replies']['replies']} texted; p95 "
                               f"{_f(b['agent_replies']['sms_p95_s_but_killed_jobs'], 2)} without the "
                               f"{b['agent_replies']['held_by_killed_worker']} the killed worker held)",
                  lambda v: v <= 5)
        per_burst("5. agent reply notes posted once drained", "all", lambda b: b["agent_replies"]["notes_posted"],
                  lambda v, b: f"{v}/{b['agent_replies']['replies']}", lambda v: True)
        out[-1] = out[-1][:3] + (all(b["agent_replies"]["notes_posted"] == b["agent_replies"]["replies"]
                                     for b in bursts.values()),)
    lat = results.get("latency")
    if lat:
        r = lat["ratio"]
        out.append((f"6. answer throughput / floor ({lat['clients']} clients, {lat['workers']} workers; SQLite)",
                    "≥ 0.6×", {"sqlite": _ratio(r["throughput"])}, r["throughput"] >= 0.6))
        out.append(("6. answer p99 / floor's p99", "≤ 2.5×", {"sqlite": _ratio(r["p99"], 1)}, r["p99"] <= 2.5))
        web = lat["bling"].get("web_peak_rss_mb")
        out.append(("6. peak RSS per web worker, latency run (MB)", "≤ 60", {"sqlite": _f(web)},
                    None if web is None else web <= 60))
    if bursts:
        per_burst("6. peak RSS per web worker, burst (MB)", "≤ 60", lambda b: b["memory"]["web_peak_mb"],
                  lambda v, b: _f(v), lambda v: v <= 60)
        per_burst("6. peak RSS per worker process (MB)", "≤ 80", lambda b: b["memory"]["worker_peak_mb"],
                  lambda v, b: f"{_f(v)} (of {', '.join(_f(m) for m in b['memory']['worker_processes_mb'])})",
                  lambda v: v <= 80)
    return out


def figures_table(results: dict) -> list[tuple[str, ...]]:
    """The figures as rows: figure, target, one column per store, met?"""
    labels = list(_bursts(results)) or ["sqlite"]
    names = {"sqlite": "SQLite (bling serve)", "postgresql": "PostgreSQL (serve --no-worker + 2 workers)"}
    lines = [("figure", "target", *[names.get(label, label) for label in labels], "met?")]
    for figure, target, measured, met in figures(results):
        lines.append((figure, target, *[measured.get(label, "–") for label in labels],
                      "–" if met is None else ("yes" if met else "NO")))
    return lines


def rows(results: dict) -> list[tuple[str, list[tuple[str, ...]]]]:
    """Sections of (label, value…) rows shared by the table and the Markdown."""
    sections = [("Issue 11's figures, side by side with their targets", figures_table(results))]
    for label, b in (results.get("bursts") or {}).items():
        if "error" in b:
            sections.append((f"Burst on {label}: FAILED", [("error", b["error"])]))
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
    for label, bu in _bursts(results).items():
        sections += burst_sections(label, bu)
    return sections


def burst_sections(label: str, bu: dict) -> list[tuple[str, list[tuple[str, ...]]]]:
    """The details of one burst: units, order, drain, the kill, memory, checks."""
    k = bu["kinds"]
    by = bu["units_per_delivered_text_by_kind"]
    lost_by = bu["lost_by_kind"]
    acc = bu["accept"]
    kill = bu.get("kill") or {}
    rep = bu["agent_replies"]
    waits = bu["waits_again"]
    sections = [(
        f"Burst on {label}: {bu['texts']:,} texts at once ({k.get('new', 0)} new supporters, {k.get('mapped', 0)} returning in "
        f"Bling's map, {k.get('searched', 0)} returning found by search) and {rep['replies']} agent replies, Help Scout "
        f"limit {bu['limit_per_minute']} units/min, {bu['layout']}, a worker SIGKILLed mid-burst",
        [("accept latency under the burst p50 / p99 (ms)", f"{_f(acc.get('p50_ms'), 1)} / {_f(acc.get('p99_ms'), 1)}"),
         ("Help Scout units charged (GET 1, write 2)", f"{bu['units']:,} ({bu['gets']:,} GETs, {bu['writes']:,} writes)"),
         ("units per text delivered: mixed / new / mapped / searched",
          f"{bu['units_per_delivered_text']:.2f} / {_f(by.get('new'), 2)} / {_f(by.get('mapped'), 2)} / {_f(by.get('searched'), 2)}"),
         ("units on Bling's designed path, at most", f"{bu['expected_units_no_waste']:,} "
          f"({' / '.join(str(u) for u in bu.get('designed_units', {}).values())} per new / mapped / searched text)"),
         ("units for the agent replies' notes / for nobody in particular", f"{bu['units_replies']:.0f} / {bu['units_other']:.0f}"),
         ("customer searches; supporters named per search", f"{bu['searches']} ; {bu['supporters_per_search']:.1f}"),
         ("Help Scout requests: method path status × count",
          "; ".join(f"{key} × {n}" for key, n in bu.get("requests_by_endpoint", {}).items())),
         ("time to drain (s)", _f(bu["drain_s"]) if bu["drained"] else f"not drained in {bu['timeout_s']:.0f}"),
         ("last text reached Help Scout at (s)", _f(bu["last_thread_s"])),
         ("… leaving out the killed worker's jobs (s)", _f(bu["last_thread_s_but_killed_jobs"])),
         ("minimum the limit allows: units / limit (s)", _f(bu["min_drain_s_at_limit"])),
         ("minimum at Bling's 80 % budget (s)", _f(bu["min_drain_s_at_budget"])),
         ("strict FIFO at the budget, same arrivals and costs: last text in at (s)", _f(bu.get("fifo_last_text_s"))),
         ("drain / minimum at the budget",
          f"{bu['drain_s'] / bu['min_drain_s_at_budget']:.2f}×" if bu["drained"] and bu["min_drain_s_at_budget"]
          and not bu["lost"] else "– (not drained, or texts were lost)"),
         ("throughput: texts into Help Scout per minute / units per minute",
          f"{(bu['texts'] - bu['lost']) / bu['last_thread_s'] * 60:.1f} / {bu['units'] / bu['last_thread_s'] * 60:.0f}"
          if bu["last_thread_s"] else "–"),
         ("first come, first served? (rank correlation of sending and arrival order; 1 = FIFO)",
          _f(bu.get("fifo_rank_correlation"), 3)),
         ("wait (accepted → thread in Help Scout) p50 / p95 (s)", f"{_f(bu['wait_p50_s'])} / {_f(bu['wait_p95_s'])}"),
         ("strict FIFO at the budget, same arrivals and costs: p95 (s)", _f(bu["fifo_wait_p95_s"])),
         ("claims that only waited again (\"will retry …: HelpScoutRateLimited\")",
          f"{waits['HelpScoutRateLimited']:,} ({bu['waste_share']:.1%} of {bu['jobs']:,} jobs)"),
         ("fast-lane jobs moved to the helpscout lane (\"now waits its turn\", by design)",
          str(waits["moved_to_helpscout_lane"])),
         ("other retries (by error)", ", ".join(f"{e} {n}" for e, n in waits.items()
                                                if e not in ("HelpScoutRateLimited", "moved_to_helpscout_lane")) or "0"),
         ("429s provoked", str(bu["http_429"])),
         ("agent replies: accepted / texted / SMS sent / notes posted",
          f"{rep['accepted']} / {rep['sms_sent']} / {rep['sms_total']} / {rep['notes_posted']} of {rep['replies']}"),
         ("agent reply SMS after its webhook p50 / p95 / max (s)",
          f"{_f(rep['sms_p50_s'], 2)} / {_f(rep['sms_p95_s'], 2)} / {_f(rep['sms_max_s'], 2)}"),
         ("… p95 leaving out the replies the killed worker held (s)",
          f"{_f(rep['sms_p95_s_but_killed_jobs'], 2)} ({rep['held_by_killed_worker']} held)"),
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
          ", ".join(f"#{o['id']} {o['state']} {o['settled_s_after_kill']:.0f}" for o in bu["orphans"]) or "none")])]
    m = bu["memory"]
    sections.append((f"Peak memory (VmHWM) during the burst on {label}", [
        ("web: gunicorn worker, max (MB)", _f(m.get("web_peak_mb"))),
        ("web: gunicorn master (MB)", _f(m.get("gunicorn_master_mb"))),
        ("worker processes: the SIGKILLed one (at the kill), the others at the end (MB)",
         ", ".join(_f(x) for x in m.get("worker_processes_mb", [])))]))
    sections.append((f"Checks, burst on {label}", [(what, "PASS" if ok else "FAIL", got) for what, ok, got in checks(bu)]))
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
           "Produced by `.venv/bin/python bench/run.py" + (" --quick" if results["mode"] == "quick" else "")
           + (" --also-postgres" if "postgresql" in (results.get("bursts") or {}) else "")
           + "`; what each number means: [README.md](README.md).", "",
           "## Machine", "",
           f"- CPU: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable)",
           f"- RAM: {m['ram_gb']} GB",
           f"- Python {m['python']}, Linux {m['kernel']}, SQLite {m['sqlite']}, gunicorn {m['gunicorn']}, falcon {m['falcon']}",
           f"- Stores: SQLite in a temp dir on {m.get('store_filesystem', '?')}; bursts on: "
           f"{', '.join(results.get('bursts') or {}) or 'none'}"
           + (" (run concurrently)" if len(results.get("bursts") or {}) > 1 else ""),
           f"- Bling and the floor ran from {m.get('bling_venv', 'the venv running the bench')}",
           f"- Date: {m['date']}; checkout {m['commit']}",
           f"- Parameters: texts {a['texts']}, returning share {a['returning']}, requests {a['requests']} "
           f"(+{a['warmup']} warm-up), clients {a['clients']}, gunicorn workers {a['workers']}, "
           f"Help Scout limit {a['limit']}/min, doubles' latency {float(a['double_latency']) * 1000:.0f} ms, "
           f"kill at {a['kill_at']}, agent replies {a.get('replies')}",
           f"- Logs and raw numbers: `{results['logs']}/` (not committed)", ""]
    for title, lines in rows(results):
        if lines[0][0] in ("", "figure"):  # the section brings its own header row
            head, body = lines[0], lines[1:]
        else:
            head, body = ("", "value") if len(lines[0]) == 2 else ("check", "result", "measured"), lines
        out += [f"## {title}", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        out += ["| " + " | ".join(line) + " |" for line in body]
        out.append("")
    return "\n".join(out)
