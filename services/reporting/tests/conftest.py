import sys
from pathlib import Path

# Tests import reporting_history (--import-mode=importlib puts no test dir on the path).
sys.path.insert(0, str(Path(__file__).parent))
