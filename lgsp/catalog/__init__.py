"""The service catalog: what each service is, which system owns it, how its calls are matched."""
