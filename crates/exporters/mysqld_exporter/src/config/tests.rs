use std::path::Path;

use super::*;

fn sources(address: &str, username: &str) -> Sources {
    Sources {
        my_cnf: PathBuf::from("/nonexistent/.my.cnf"),
        address: address.into(),
        username: username.into(),
        insecure_skip_verify: false,
    }
}

fn load(text: &str, sources: &Sources) -> Result<ClientConfig, ConfigError> {
    let mut ini = Ini::default();
    ini.set(CLIENT, "password", String::new());
    ini.merge(Path::new("my.cnf"), text)?;
    ClientConfig::from_ini(ini, sources)
}

#[test]
fn flags_complete_the_client_section() {
    let c = load("", &sources("db.example:3307", "exporter")).unwrap();
    let client = c.section(CLIENT).unwrap();
    assert_eq!(client.user, "exporter");
    assert_eq!(client.host, "db.example");
    assert_eq!(client.port, 3307);
    assert_eq!(client.tls, Tls::Off);

    let c = load("", &sources("unix:///run/mysqld.sock", "u")).unwrap();
    assert_eq!(c.section(CLIENT).unwrap().socket, "/run/mysqld.sock");

    let c = load(
        "[client]\nuser=file\nhost=h\nport=1\n",
        &sources("db:2", "flag"),
    )
    .unwrap();
    let client = c.section(CLIENT).unwrap();
    assert_eq!(
        (client.user.as_str(), client.host.as_str(), client.port),
        ("file", "h", 1)
    );
}

#[test]
fn bad_sections_are_dropped_and_none_left_is_an_error() {
    assert!(matches!(
        load("", &sources("localhost:3306", "")),
        Err(ConfigError::Empty)
    ));
    let c = load(
        "[client]\nuser=a\n[client.bad]\nport=x\n[other]\npassword=p\n[client.tls]\ntls=maybe\n",
        &sources("localhost:3306", ""),
    )
    .unwrap();
    assert_eq!(c.sections.keys().collect::<Vec<_>>(), ["client"]);
    assert!(matches!(
        load("", &sources("no-port", "u")),
        Err(ConfigError::Address(_))
    ));
}

#[test]
fn missing_file_is_not_an_error_but_unreadable_is() {
    assert!(ClientConfig::load(&sources("localhost:3306", "u")).is_ok());
    let dir = tempfile::tempdir().unwrap();
    let mut s = sources("localhost:3306", "u");
    s.my_cnf = dir.path().to_owned();
    assert!(matches!(
        ClientConfig::load(&s),
        Err(ConfigError::Read { .. })
    ));
}

#[test]
fn targets_and_tls() {
    let c = load(
        "[client]\nuser=a\npassword=p\n[client.secure]\nssl-ca=/ca.pem\nssl-cert=/c.pem\nssl-key=/k.pem\n\
         [client.skip]\ntls=skip-verify\n",
        &sources("localhost:3306", ""),
    )
    .unwrap();
    let client = c.section(CLIENT).unwrap();
    let opts: mysql_async::Opts = client.opts("").unwrap().into();
    assert_eq!(
        (opts.ip_or_hostname(), opts.tcp_port()),
        ("localhost", 3306)
    );
    assert_eq!(opts.user(), Some("a"));
    assert_eq!(opts.pass(), Some("p"));
    assert!(opts.ssl_opts().is_none());
    let opts: mysql_async::Opts = client.opts("[::1]:3310").unwrap().into();
    assert_eq!((opts.ip_or_hostname(), opts.tcp_port()), ("::1", 3310));
    let opts: mysql_async::Opts = client.opts("unix:///tmp/m.sock").unwrap().into();
    assert_eq!(opts.socket(), Some("/tmp/m.sock"));
    assert!(matches!(client.opts("db"), Err(SectionError::Target(_))));

    let secure = c.section("client.secure").unwrap();
    assert_eq!(secure.user, "a");
    assert!(matches!(
        &secure.tls,
        Tls::Custom {
            identity: Some(_),
            ..
        }
    ));
    let opts: mysql_async::Opts = secure.opts("").unwrap().into();
    assert_eq!(opts.ssl_opts().unwrap().root_certs().len(), 1);
    assert_eq!(c.section("client.skip").unwrap().tls, Tls::SkipVerify);
}

use crate::error::SectionError;
