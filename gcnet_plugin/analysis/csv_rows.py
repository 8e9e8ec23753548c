"""Write table rows (dicts) to CSV, ``None`` as an empty cell."""
import csv
from typing import Sequence


def write_rows_csv(path: str, rows: Sequence[dict],
                   keys: Sequence[str]) -> None:
    """Write ``rows`` with the columns ``keys``, in that order."""
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(keys))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: '' if row[k] is None else row[k]
                 for k in keys})
