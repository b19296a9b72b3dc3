"""Speed, size and memory of an exported model on this machine (``edge-ser bench``).

``report = run(dist, model)`` measures (``suite``) and returns a JSON-ready dict;
``to_markdown(report)`` renders it (``report``).
"""

from edge_ser.bench.report import to_markdown
from edge_ser.bench.suite import run

__all__ = ["run", "to_markdown"]
