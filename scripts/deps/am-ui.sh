# Node.js runs the Alertmanager UI script's helper checks (crates/alertmanager/tests/ui.rs).
APT_PACKAGES+=(nodejs)
