"""What a run stands on: the mock IMS, the partner app as a process, and the test users."""
