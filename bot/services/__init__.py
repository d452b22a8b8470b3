"""Use cases, verb-named. Each commits once, before the handler tells the user anything."""
