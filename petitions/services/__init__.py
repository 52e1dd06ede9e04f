"""Every state change of a petition or a signature goes through these functions.

The public site, the back-office, the API and the tasks all call the same service.
"""
