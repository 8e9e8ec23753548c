"""Interleaved rounds: every case once per round, rotating order; the
options the benchmark tools share."""
import argparse

import pytest
import torch

from gcnet_plugin.profiling import device_label, interleaved_times
from gcnet_plugin.profiling.timing import (add_device_args, check_device,
                                           default_rounds)


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


def test_after_runs_untimed_after_each_case():
    calls = []
    cases = {k: (lambda k=k: calls.append(k)) for k in 'ab'}
    undo = {k: (lambda k=k: calls.append(k.upper())) for k in 'ab'}
    interleaved_times(cases, 'cpu', warmup=0, repeats=2, after=undo)
    assert calls == list('aAbB'
                         'bBaA')


def test_device_options(capsys):
    parser = argparse.ArgumentParser()
    add_device_args(parser, cpu_repeats=3)
    args = parser.parse_args(['--device', 'cpu', '--repeats', '2'])
    assert (args.device, args.repeats, args.warmup, args.json) == ('cpu', 2,
                                                                   None, None)
    check_device(parser, args)  # a CPU is always there
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            check_device(parser, parser.parse_args([]))
        assert 'no CUDA device; use --device cpu' in capsys.readouterr().err
