"""`make bench`: Switchboard measured against a hand-written REST endpoint, in one run."""
