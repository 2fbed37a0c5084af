//! The metric each memcached statistic becomes: upstream's names, help texts and types, which
//! dashboards depend on. The tables are in upstream's order.

mod slab;

pub use slab::{ITEMS, ITEMS_OPTIONAL, SLABS};

use pm_common::metrics::ConstKind::{self, Counter, Gauge};

/// A family: full name and help text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Desc {
    pub name: &'static str,
    pub help: &'static str,
}

pub(crate) const fn desc(name: &'static str, help: &'static str) -> Desc {
    Desc { name, help }
}

/// One statistic and its metric.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    pub key: &'static str,
    pub desc: Desc,
    pub kind: ConstKind,
}

pub(crate) const fn stat(key: &'static str, desc: Desc, kind: ConstKind) -> Stat {
    Stat { key, desc, kind }
}

pub const UP: Desc = desc("memcached_up", "Could the memcached server be reached.");
pub const VERSION: Desc = desc("memcached_version", "The version of this memcached server.");
pub const COMMANDS: Desc = desc(
    "memcached_commands_total",
    "Total number of all requests broken down by command (get, set, etc.) and status.",
);
pub const RUSAGE_USER: Desc = desc(
    "memcached_process_user_cpu_seconds_total",
    "Accumulated user time for this process.",
);
pub const RUSAGE_SYSTEM: Desc = desc(
    "memcached_process_system_cpu_seconds_total",
    "Accumulated system time for this process.",
);
pub const MAX_CONNECTIONS: Desc = desc(
    "memcached_max_connections",
    "Maximum number of clients allowed.",
);
pub const LRU_CRAWLER_ENABLED: Desc = desc(
    "memcached_lru_crawler_enabled",
    "Whether the LRU crawler is enabled.",
);
pub const LRU_MAINTAINER_THREAD: Desc = desc(
    "memcached_lru_crawler_maintainer_thread",
    "Split LRU mode and background threads.",
);
pub const SLAB_LRU_HITS: Desc = desc(
    "memcached_slab_lru_hits_total",
    "Number of get_hits to the LRU.",
);
pub const SLAB_COMMANDS: Desc = desc(
    "memcached_slab_commands_total",
    "Total number of all requests broken down by command (get, set, etc.) and status per slab.",
);

/// `stats` values read before the command counters are derived.
pub const GLOBAL_FIRST: &[Stat] = &[
    stat(
        "uptime",
        desc(
            "memcached_uptime_seconds",
            "Number of seconds since the server started.",
        ),
        Counter,
    ),
    stat(
        "time",
        desc(
            "memcached_time_seconds",
            "current UNIX time according to the server.",
        ),
        Gauge,
    ),
];

/// `stats` values present when extstore is active (signalled by `extstore_limit_maxbytes`).
pub const EXTSTORE: &[Stat] = &[
    stat(
        "extstore_compact_lost",
        desc(
            "memcached_extstore_compact_lost_total",
            "Total number of items lost because they were locked during extstore compaction.",
        ),
        Counter,
    ),
    stat(
        "extstore_compact_rescues",
        desc(
            "memcached_extstore_compact_rescued_total",
            "Total number of items moved to a new page during extstore compaction,",
        ),
        Counter,
    ),
    stat(
        "extstore_compact_skipped",
        desc(
            "memcached_extstore_compact_skipped_total",
            "Total number of items dropped due to inactivity during extstore compaction.",
        ),
        Counter,
    ),
    stat(
        "extstore_page_allocs",
        desc(
            "memcached_extstore_pages_allocated_total",
            "Total number of times a page was allocated in extstore.",
        ),
        Counter,
    ),
    stat(
        "extstore_page_evictions",
        desc(
            "memcached_extstore_pages_evicted_total",
            "Total number of times a page was evicted from extstore.",
        ),
        Counter,
    ),
    stat(
        "extstore_page_reclaims",
        desc(
            "memcached_extstore_pages_reclaimed_total",
            "Total number of times an empty extstore page was freed.",
        ),
        Counter,
    ),
    stat(
        "extstore_pages_free",
        desc(
            "memcached_extstore_pages_free",
            "Number of extstore pages not yet containing any items.",
        ),
        Gauge,
    ),
    stat(
        "extstore_pages_used",
        desc(
            "memcached_extstore_pages_used",
            "Number of extstore pages containing at least one item.",
        ),
        Gauge,
    ),
    stat(
        "extstore_objects_evicted",
        desc(
            "memcached_extstore_objects_evicted_total",
            "Total number of items evicted from extstore to free up space.",
        ),
        Counter,
    ),
    stat(
        "extstore_objects_read",
        desc(
            "memcached_extstore_objects_read_total",
            "Total number of items read from extstore.",
        ),
        Counter,
    ),
    stat(
        "extstore_objects_written",
        desc(
            "memcached_extstore_objects_written_total",
            "Total number of items written to extstore.",
        ),
        Counter,
    ),
    stat(
        "extstore_objects_used",
        desc(
            "memcached_extstore_objects_used",
            "Number of items stored in extstore.",
        ),
        Gauge,
    ),
    stat(
        "extstore_bytes_evicted",
        desc(
            "memcached_extstore_bytes_evicted_total",
            "Total number of bytes evicted from extstore to free up space.",
        ),
        Counter,
    ),
    stat(
        "extstore_bytes_written",
        desc(
            "memcached_extstore_bytes_written_total",
            "Total number of bytes written to extstore.",
        ),
        Counter,
    ),
    stat(
        "extstore_bytes_read",
        desc(
            "memcached_extstore_bytes_read_total",
            "Total number of bytes read from extstore.",
        ),
        Counter,
    ),
    stat(
        "extstore_bytes_used",
        desc(
            "memcached_extstore_bytes_used",
            "Current number of bytes used to store items in extstore.",
        ),
        Counter,
    ),
    stat(
        "extstore_bytes_fragmented",
        desc(
            "memcached_extstore_bytes_fragmented",
            "Current number of bytes in extstore pages allocated but not used to store an object.",
        ),
        Gauge,
    ),
    stat(
        "extstore_limit_maxbytes",
        desc(
            "memcached_extstore_bytes_limit",
            "Number of bytes of external storage allocated for this server.",
        ),
        Gauge,
    ),
    stat(
        "extstore_io_queue",
        desc(
            "memcached_extstore_io_queue_depth",
            "Number of items in the I/O queue waiting to be processed.",
        ),
        Gauge,
    ),
];

/// `stats` values present in proxy mode (signalled by `proxy_backend_total`).
pub const PROXY: &[Stat] = &[
    stat(
        "proxy_conn_requests",
        desc(
            "memcached_proxy_conn_requests_total",
            "Total number of times the proxy opened a backend connection.",
        ),
        Counter,
    ),
    stat(
        "proxy_conn_errors",
        desc(
            "memcached_proxy_conn_errors_total",
            "Total number of backend connection errors in proxy mode.",
        ),
        Counter,
    ),
    stat(
        "proxy_conn_oom",
        desc(
            "memcached_proxy_conn_oom_total",
            "Total number of times the proxy ran out of memory allocating a connection.",
        ),
        Counter,
    ),
    stat(
        "proxy_req_active",
        desc(
            "memcached_proxy_req_active",
            "Number of in-flight requests currently forwarded by the proxy.",
        ),
        Gauge,
    ),
    stat(
        "proxy_config_reloads",
        desc(
            "memcached_proxy_config_reloads_total",
            "Total attempts to reload the proxy configuration.",
        ),
        Counter,
    ),
    stat(
        "proxy_config_reload_fails",
        desc(
            "memcached_proxy_config_reload_fails_total",
            "Total failed attempts to reload the proxy configuration.",
        ),
        Counter,
    ),
    stat(
        "proxy_config_cron_runs",
        desc(
            "memcached_proxy_config_cron_runs_total",
            "Total times the proxy’s Lua cron hooks have run.",
        ),
        Counter,
    ),
    stat(
        "proxy_config_cron_fails",
        desc(
            "memcached_proxy_config_cron_fails_total",
            "Total errors from the proxy’s Lua cron hooks.",
        ),
        Counter,
    ),
    stat(
        "proxy_backend_total",
        desc(
            "memcached_proxy_backend_total",
            "Number of backend servers configured in proxy mode.",
        ),
        Gauge,
    ),
    stat(
        "proxy_backend_marked_bad",
        desc(
            "memcached_proxy_backend_marked_bad_total",
            "Total times a backend was marked unhealthy by the proxy.",
        ),
        Counter,
    ),
    stat(
        "proxy_backend_failed",
        desc(
            "memcached_proxy_backend_failed",
            "Number of backends currently in a failed state.",
        ),
        Gauge,
    ),
    stat(
        "proxy_request_failed_depth",
        desc(
            "memcached_proxy_request_failed_depth_total",
            "Total requests dropped due to backend depth limits.",
        ),
        Counter,
    ),
    stat(
        "round_robin_fallback",
        desc(
            "memcached_round_robin_fallback_total",
            "Total times the proxy fell back to round-robin routing.",
        ),
        Counter,
    ),
    stat(
        "unexpected_napi_ids",
        desc(
            "memcached_unexpected_napi_ids_total",
            "Total unexpected internal event-loop IDs seen by the proxy.",
        ),
        Counter,
    ),
];

/// The remaining `stats` values (after the rusage timevals).
pub const GLOBAL: &[Stat] = &[
    stat(
        "bytes",
        desc(
            "memcached_current_bytes",
            "Current number of bytes used to store items.",
        ),
        Gauge,
    ),
    stat(
        "limit_maxbytes",
        desc(
            "memcached_limit_bytes",
            "Number of bytes this server is allowed to use for storage.",
        ),
        Gauge,
    ),
    stat(
        "curr_items",
        desc(
            "memcached_current_items",
            "Current number of items stored by this instance.",
        ),
        Gauge,
    ),
    stat(
        "total_items",
        desc(
            "memcached_items_total",
            "Total number of items stored during the life of this instance.",
        ),
        Counter,
    ),
    stat(
        "bytes_read",
        desc(
            "memcached_read_bytes_total",
            "Total number of bytes read by this server from network.",
        ),
        Counter,
    ),
    stat(
        "bytes_written",
        desc(
            "memcached_written_bytes_total",
            "Total number of bytes sent by this server to network.",
        ),
        Counter,
    ),
    stat(
        "curr_connections",
        desc(
            "memcached_current_connections",
            "Current number of open connections.",
        ),
        Gauge,
    ),
    stat(
        "total_connections",
        desc(
            "memcached_connections_total",
            "Total number of connections opened since the server started running.",
        ),
        Counter,
    ),
    stat(
        "rejected_connections",
        desc(
            "memcached_connections_rejected_total",
            "Total number of connections rejected due to hitting the memcached's -c limit in maxconns_fast mode.",
        ),
        Counter,
    ),
    stat(
        "conn_yields",
        desc(
            "memcached_connections_yielded_total",
            "Total number of connections yielded running due to hitting the memcached's -R limit.",
        ),
        Counter,
    ),
    stat(
        "listen_disabled_num",
        desc(
            "memcached_connections_listener_disabled_total",
            "Number of times that memcached has hit its connections limit and disabled its listener.",
        ),
        Counter,
    ),
    stat(
        "evictions",
        desc(
            "memcached_items_evicted_total",
            "Total number of valid items removed from cache to free memory for new items.",
        ),
        Counter,
    ),
    stat(
        "reclaimed",
        desc(
            "memcached_items_reclaimed_total",
            "Total number of times an entry was stored using memory from an expired entry.",
        ),
        Counter,
    ),
    stat(
        "store_too_large",
        desc(
            "memcached_item_too_large_total",
            "The number of times an item exceeded the max-item-size when being stored.",
        ),
        Counter,
    ),
    stat(
        "store_no_memory",
        desc(
            "memcached_item_no_memory_total",
            "The number of times an item could not be stored due to no more memory.",
        ),
        Counter,
    ),
    stat(
        "lru_crawler_starts",
        desc(
            "memcached_lru_crawler_starts_total",
            "Times an LRU crawler was started.",
        ),
        Counter,
    ),
    stat(
        "direct_reclaims",
        desc(
            "memcached_direct_reclaims_total",
            "Times worker threads had to directly reclaim or evict items.",
        ),
        Counter,
    ),
    stat(
        "crawler_items_checked",
        desc(
            "memcached_lru_crawler_items_checked_total",
            "Total items examined by LRU Crawler.",
        ),
        Counter,
    ),
    stat(
        "crawler_reclaimed",
        desc(
            "memcached_lru_crawler_reclaimed_total",
            "Total items freed by LRU Crawler.",
        ),
        Counter,
    ),
    stat(
        "moves_to_cold",
        desc(
            "memcached_lru_crawler_moves_to_cold_total",
            "Total number of items moved from HOT/WARM to COLD LRU's.",
        ),
        Counter,
    ),
    stat(
        "moves_to_warm",
        desc(
            "memcached_lru_crawler_moves_to_warm_total",
            "Total number of items moved from COLD to WARM LRU.",
        ),
        Counter,
    ),
    stat(
        "moves_within_lru",
        desc(
            "memcached_lru_crawler_moves_within_lru_total",
            "Total number of items reshuffled within HOT or WARM LRU's.",
        ),
        Counter,
    ),
    stat(
        "total_malloced",
        desc(
            "memcached_malloced_bytes",
            "Number of bytes of memory allocated to slab pages.",
        ),
        Gauge,
    ),
    stat(
        "accepting_conns",
        desc(
            "memcached_accepting_connections",
            "The Memcached server is currently accepting new connections.",
        ),
        Gauge,
    ),
];

/// `stats settings` values exported when the LRU crawler is on.
pub const LRU_CRAWLER: &[Stat] = &[
    stat(
        "lru_crawler_sleep",
        desc(
            "memcached_lru_crawler_sleep",
            "Microseconds to sleep between LRU crawls.",
        ),
        Gauge,
    ),
    stat(
        "lru_crawler_tocrawl",
        desc(
            "memcached_lru_crawler_to_crawl",
            "Max items to crawl per slab per run.",
        ),
        Gauge,
    ),
    stat(
        "hot_lru_pct",
        desc(
            "memcached_lru_crawler_hot_percent",
            "Percent of slab memory reserved for HOT LRU.",
        ),
        Gauge,
    ),
    stat(
        "warm_lru_pct",
        desc(
            "memcached_lru_crawler_warm_percent",
            "Percent of slab memory reserved for WARM LRU.",
        ),
        Gauge,
    ),
    stat(
        "hot_max_factor",
        desc(
            "memcached_lru_crawler_hot_max_factor",
            "Set idle age of HOT LRU to COLD age * this",
        ),
        Gauge,
    ),
    stat(
        "warm_max_factor",
        desc(
            "memcached_lru_crawler_warm_max_factor",
            "Set idle age of WARM LRU to COLD age * this",
        ),
        Gauge,
    ),
];
