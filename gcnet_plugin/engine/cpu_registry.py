"""Which training and test processes of this plugin run on this machine.

Each ``tools/train.py`` or ``tools/test.py`` process that picks its own
thread count (see :mod:`.cpu_threads`) leaves a small file in a per-user
folder under the system's temporary folder while it runs:
``<tmp>/gcnet-cpu-<uid>/<pid>.json``, holding its start time, the cores
it may run on and its run (the processes one torchrun started form one
run of ``LOCAL_WORLD_SIZE`` processes). A file whose process has gone
(killed, or its pid reused by another program) is stale: it is ignored
and removed by the next process that reads the folder.
"""
import atexit
import json
import os
import os.path as osp
import tempfile
from dataclasses import dataclass
from typing import FrozenSet, Iterable, List, Optional

__all__ = [
    'Entry', 'own_entry', 'processes_sharing', 'read_entries', 'register',
    'registry_dir'
]

REGISTRY_ENV = 'GCNET_CPU_REGISTRY'


def registry_dir() -> str:
    """The folder (``$GCNET_CPU_REGISTRY``, else ``<tmp>/gcnet-cpu-<uid>``)."""
    folder = os.environ.get(REGISTRY_ENV)
    if folder:
        return folder
    uid = os.getuid() if hasattr(os, 'getuid') else 0
    return osp.join(tempfile.gettempdir(), f'gcnet-cpu-{uid}')


def _start_time(pid: int) -> Optional[str]:
    """The process's start time in clock ticks since boot (Linux), else
    None; with the pid it names one process, even after the pid is
    reused."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None
    # Fields after the name: state is the 3rd of stat, starttime the 22nd.
    return None if fields[0] in 'ZX' else fields[19]


@dataclass(frozen=True)
class Entry:
    """One registered process.

    Args:
        pid (int): Its process id.
        start (str, optional): Its start time (see :func:`_start_time`).
        run (str): Its run: the processes of one torchrun share it.
        run_size (int): The processes of the run on this machine.
        cpus (frozenset[int]): The cores it may run on.
    """
    pid: int
    start: Optional[str]
    run: str
    run_size: int
    cpus: FrozenSet[int]

    def alive(self) -> bool:
        """Whether the process still runs (a zombie does not)."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return self.start is None or _start_time(self.pid) == self.start


def own_entry() -> Entry:
    """This process's entry: under torchrun (``LOCAL_WORLD_SIZE`` set) its
    run is its parent, the agent that started the run's processes."""
    pid = os.getpid()
    size = os.environ.get('LOCAL_WORLD_SIZE', '')
    if size.isdigit() and int(size) > 1:
        run, run_size = f'torchrun-{os.getppid()}', int(size)
    else:
        run, run_size = str(pid), 1
    if hasattr(os, 'sched_getaffinity'):
        cpus = frozenset(os.sched_getaffinity(0))
    else:
        cpus = frozenset(range(os.cpu_count() or 1))
    return Entry(pid, _start_time(pid), run, run_size, cpus)


def register(entry: Entry, folder: Optional[str] = None) -> Optional[str]:
    """Write ``entry``'s file; it is removed when the process exits.

    Args:
        entry (Entry): This process's entry (:func:`own_entry`).
        folder (str, optional): Defaults to :func:`registry_dir`.

    Returns:
        str | None: The file, or None when the folder is not writable
        (the process then counts only itself and its run).
    """
    folder = folder or registry_dir()
    path = osp.join(folder, f'{entry.pid}.json')
    data = dict(
        pid=entry.pid,
        start=entry.start,
        run=entry.run,
        run_size=entry.run_size,
        cpus=sorted(entry.cpus))
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        partial = f'{path}.{entry.pid}.tmp'
        with open(partial, 'w') as f:
            json.dump(data, f)
        os.replace(partial, path)
    except OSError:
        return None
    atexit.register(_unregister, path, entry.pid)
    return path


def _unregister(path: str, pid: int) -> None:
    # A forked child (a dataloader worker) inherits the exit handler.
    if os.getpid() == pid:
        try:
            os.remove(path)
        except OSError:
            pass


def _parse(path: str) -> Optional[Entry]:
    try:
        with open(path) as f:
            data = json.load(f)
        return Entry(
            int(data['pid']), data['start'], str(data['run']),
            int(data['run_size']), frozenset(int(c) for c in data['cpus']))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_entries(folder: Optional[str] = None) -> List[Entry]:
    """The live processes' entries; stale files are removed.

    Args:
        folder (str, optional): Defaults to :func:`registry_dir`.

    Returns:
        list[Entry]: Sorted by pid.
    """
    folder = folder or registry_dir()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    entries = []
    for name in names:
        if not name.endswith('.json'):
            continue
        path = osp.join(folder, name)
        entry = _parse(path)
        if entry is not None and entry.alive():
            entries.append(entry)
        else:
            # Stale or unreadable (a file is replaced whole, never seen
            # half-written).
            try:
                os.remove(path)
            except OSError:
                pass
    return sorted(entries, key=lambda e: e.pid)


def processes_sharing(me: Entry, entries: Iterable[Entry]) -> int:
    """How many registered processes share cores with ``me``.

    A run counts as its ``run_size`` processes even before they have all
    registered (the processes of one torchrun start together).

    Args:
        me (Entry): This process (counted whether or not it is listed).
        entries (Iterable[Entry]): The live entries (:func:`read_entries`).

    Returns:
        int: At least ``me.run_size``.
    """
    runs = {me.run: [me.run_size, {me.pid}]}
    for entry in entries:
        if entry.pid == me.pid or not entry.cpus & me.cpus:
            continue
        run = runs.setdefault(entry.run, [entry.run_size, set()])
        run[0] = max(run[0], entry.run_size)
        run[1].add(entry.pid)
    return sum(max(size, len(pids)) for size, pids in runs.values())
