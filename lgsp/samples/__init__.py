"""Identifiers of seeded data to try an instance's services with: `GET {base}/admin/samples`."""
