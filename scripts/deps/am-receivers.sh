# A real SMTP server (aiosmtpd) for the email receiver tests of pm-alertmanager.
PIP_PACKAGES+=(aiosmtpd)
