"""The test suite: per layer, theory checks, goldens, the dashboard in AppTest and a browser."""
