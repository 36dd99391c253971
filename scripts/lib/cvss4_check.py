#!/usr/bin/env python3
"""Herald's CVSS scores against an implementation nobody here wrote: Red Hat's `cvss` package
(PyPI), a translation of FIRST's calculator. Every CVSS 3.1 and 4.0 base vector, and random
4.0 vectors with threat, environmental and supplemental metrics, go through `herald cvss` in
one process each; every score must match.

Usage: python3 scripts/lib/cvss4_check.py path/to/herald
"""

import itertools
import json
import random
import subprocess
import sys
import time

from cvss import CVSS3, CVSS4

HERALD = sys.argv[1]

V31_BASE = [("AV", "NALP"), ("AC", "LH"), ("PR", "NLH"), ("UI", "NR"), ("S", "UC"),
            ("C", "HLN"), ("I", "HLN"), ("A", "HLN")]
V40_BASE = [("AV", "NALP"), ("AC", "LH"), ("AT", "NP"), ("PR", "NLH"), ("UI", "NPA"),
            ("VC", "HLN"), ("VI", "HLN"), ("VA", "HLN"), ("SC", "HLN"), ("SI", "HLN"), ("SA", "HLN")]
V40_MORE = [("E", ["X", "A", "P", "U"]), ("CR", ["X", "H", "M", "L"]), ("IR", ["X", "H", "M", "L"]),
            ("AR", ["X", "H", "M", "L"]), ("MAV", ["X", "N", "A", "L", "P"]), ("MAC", ["X", "L", "H"]),
            ("MAT", ["X", "N", "P"]), ("MPR", ["X", "N", "L", "H"]), ("MUI", ["X", "N", "P", "A"]),
            ("MVC", ["X", "H", "L", "N"]), ("MVI", ["X", "H", "L", "N"]), ("MVA", ["X", "H", "L", "N"]),
            ("MSC", ["X", "H", "L", "N"]), ("MSI", ["X", "S", "H", "L", "N"]),
            ("MSA", ["X", "S", "H", "L", "N"]), ("S", ["X", "N", "P"]), ("AU", ["X", "N", "Y"]),
            ("R", ["X", "A", "U", "I"]), ("V", ["X", "D", "C"]), ("RE", ["X", "L", "M", "H"]),
            ("U", ["X", "Clear", "Green", "Amber", "Red"])]


def every(prefix, metrics):
    names = [name for name, _ in metrics]
    for values in itertools.product(*(values for _, values in metrics)):
        yield prefix + "/" + "/".join(f"{n}:{v}" for n, v in zip(names, values))


def herald_scores(vectors):
    started = time.monotonic()
    run = subprocess.run([HERALD, "cvss", "--json"], input="\n".join(vectors).encode(),
                         capture_output=True, timeout=600)
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    scored = json.loads(run.stdout)
    assert len(scored) == len(vectors), (len(scored), len(vectors))
    print(f"  herald cvss scored {len(vectors)} vectors in {time.monotonic() - started:.1f} s")
    return scored


def compare(label, vectors, reference):
    scored = herald_scores(vectors)
    wrong = []
    for given, answer in zip(vectors, scored):
        expected = reference(given)
        if answer["score"] != expected:
            wrong.append((given, answer["score"], expected))
    for given, got, expected in wrong[:10]:
        print(f"  {given}: herald {got}, cvss {expected}")
    assert not wrong, f"{label}: {len(wrong)} of {len(vectors)} scores differ"
    print(f"ok {label}: {len(vectors)} vectors, every score as the reference's")
    return scored


def main():
    compare("every CVSS 3.1 base vector", list(every("CVSS:3.1", V31_BASE)),
            lambda v: float(CVSS3(v).base_score))

    base40 = list(every("CVSS:4.0", V40_BASE))
    scored = compare("every CVSS 4.0 base vector", base40, lambda v: float(CVSS4(v).base_score))
    assert all(s["nomenclature"] == "CVSS-B" for s in scored)
    # Spot checks by hand, from FIRST's calculator: the best-known vector, and the zero rule.
    by_vector = {s["vector"]: s["score"] for s in scored}
    assert by_vector["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"] == 9.3
    assert by_vector["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N"] == 0

    # Random vectors with the other metrics, some set to X, in a shuffled order: Herald puts
    # them in the specification's order, and scores them as the reference does.
    rng = random.Random(20261202)
    mixed, nomenclatures = [], []
    for _ in range(40_000):
        parts = [f"{n}:{rng.choice(values)}" for n, values in V40_BASE]
        more = [(n, rng.choice(values)) for n, values in V40_MORE if rng.random() < 0.5]
        parts += [f"{n}:{v}" for n, v in more]
        rng.shuffle(parts)
        mixed.append("CVSS:4.0/" + "/".join(parts))
        threat = any(n == "E" and v != "X" for n, v in more)
        environmental = any(v != "X" and (n in ("CR", "IR", "AR") or n.startswith("M")) for n, v in more)
        nomenclatures.append("CVSS-B" + ("T" if threat else "") + ("E" if environmental else ""))
    scored = compare("40,000 random CVSS 4.0 vectors with threat, environmental and supplemental metrics",
                     mixed, lambda v: float(CVSS4(v).base_score))
    for answer, expected in zip(scored, nomenclatures):
        assert answer["nomenclature"] == expected, (answer, expected)
        # The reference leaves out metrics set to X (not defined); Herald keeps what was given.
        defined = "/".join(part for part in answer["vector"].split("/") if not part.endswith(":X"))
        assert defined == CVSS4(answer["vector"]).clean_vector(), answer["vector"]
    print("ok every name (CVSS-B, -BT, -BE, -BTE) and every vector in the specification's order")

    bad = subprocess.run([HERALD, "cvss"], input=b"CVSS:4.0/AV:N/AC:L\n" + base40[1].encode(),
                         capture_output=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout == b"", bad
    assert bad.stderr.decode().startswith("herald: line 1: cvss: base metrics missing"), bad.stderr
    print("ok a bad line is refused by its number, nothing scored")


if __name__ == "__main__":
    main()
