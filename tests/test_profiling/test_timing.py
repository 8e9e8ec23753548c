"""Interleaved rounds: every case once per round, rotating order."""
from gcnet_plugin.profiling import device_label, interleaved_times
from gcnet_plugin.profiling.timing import default_rounds


def test_rounds_rotate_and_skip_warmup():
    calls = []
    cases = {k: (lambda k=k: calls.append(k)) for k in 'abc'}
    times = interleaved_times(cases, 'cpu', warmup=1, repeats=3)
    assert calls == list('abc'
                         'bca'
                         'cab'
                         'abc')
    assert {k: len(v) for k, v in times.items()} == {'a': 3, 'b': 3, 'c': 3}
    assert all(t >= 0 for v in times.values() for t in v)


def test_device_label_names_the_cpu_threads():
    assert device_label('cpu').endswith('threads')


def test_default_rounds_per_device():
    assert default_rounds('cuda') == (20, 3)
    assert default_rounds('cpu') == (5, 1)
    assert default_rounds('cpu', cpu_repeats=3) == (3, 1)
    assert default_rounds('cuda', repeats=7, warmup=0) == (7, 0)
