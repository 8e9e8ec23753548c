"""Global-context family blocks: GC, simplified NL, SE, non-local."""
