"""Benchmark of vigbox's sealed store, run by ``make bench`` as ``python -m bench``.

It measures the age implementation in :mod:`appliance.age` only as ratios
against references timed in the same run (``openssl speed``, the ``age``
CLI, plain ``pread``), because those carry across machines where absolute
timings do not. See :mod:`bench.runner` for the order of work and
:mod:`bench.report` for what is written where.
"""
