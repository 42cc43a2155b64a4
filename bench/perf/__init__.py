"""pyperf benchmarks and baselines; each module documents its command line."""
