"""A run: select the checks, stand the stage up, judge them through pytest, stop on time, report."""
