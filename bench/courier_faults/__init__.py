"""The courier fault run: the service against the GHN and GHTK fakes, one fault scenario after another."""
