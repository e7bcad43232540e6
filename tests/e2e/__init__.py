"""End to end: the generated company from sources through bronze to the marts."""
