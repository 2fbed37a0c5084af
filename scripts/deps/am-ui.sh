# Node.js runs the Alertmanager UI script's helper checks (crates/alertmanager/tests/it/ui.rs).
APT_PACKAGES+=(nodejs)
