"""The shared test harness: helpers every test tree imports instead of copying."""
