# docker-compose (the Python 1.29 one Debian ships) validates docker-compose.yml; no Docker
# engine is needed for `docker-compose config`.
APT_PACKAGES+=(docker-compose)
