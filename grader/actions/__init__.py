"""The GitHub Actions side of the reusable workflow: the run's event and files, the OIDC report."""
