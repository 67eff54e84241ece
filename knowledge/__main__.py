"""``python -m knowledge [PATH-FRAGMENT]``: list knowledge problems (all, or in matching files)."""

import sys

from knowledge.check import check_knowledge
from knowledge.loader import load_files

kb, problems = load_files()
problems += check_knowledge(kb)
wanted = sys.argv[1] if len(sys.argv) > 1 else ""
shown = [p for p in problems if wanted in p.path]
for problem in shown:
    print(problem)
print(
    f"{len(kb.topics)} topics, {len(kb.organisations)} organisations, "
    f"{len(kb.consulates)} consulates, {len(kb.cities)} cities; {len(shown)} problem(s) shown"
)
sys.exit(1 if shown else 0)
