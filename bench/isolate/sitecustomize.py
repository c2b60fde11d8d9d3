"""Put on PYTHONPATH of the leadctl processes the harness measures: hides pandas from them.

pandas comes with the optional `bench` extra (for the baseline) and pandera imports it whenever
it can, which would add its import time and memory to every measured command. Users install
leadctl without it, so the stages are measured without it too.
"""

import sys
from importlib.abc import MetaPathFinder


class _HidePandas(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):  # type: ignore[no-untyped-def]
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("No module named 'pandas'", name="pandas")
        return None


sys.meta_path.insert(0, _HidePandas())
