//! The per-slab-class tables: `stats items` and `stats slabs`.

use pm_common::metrics::ConstKind::{Counter, Gauge};

use super::{Stat, desc, stat};

/// `stats items` values per slab class, always expected.
pub const ITEMS: &[Stat] = &[
    stat(
        "number",
        desc(
            "memcached_slab_current_items",
            "Number of items currently stored in this slab class.",
        ),
        Gauge,
    ),
    stat(
        "age",
        desc(
            "memcached_slab_items_age_seconds",
            "Number of seconds the oldest item has been in the slab class.",
        ),
        Gauge,
    ),
];

/// `stats items` values per slab class, exported when present.
pub const ITEMS_OPTIONAL: &[Stat] = &[
    // Upstream maps it to the slab family (as a counter here, a gauge from `stats slabs`);
    // memcached 1.6 reports it only in `stats items`.
    stat(
        "mem_requested",
        desc(
            "memcached_slab_mem_requested_bytes",
            "Number of bytes of memory actual items take up within a slab.",
        ),
        Counter,
    ),
    stat(
        "crawler_reclaimed",
        desc(
            "memcached_slab_items_crawler_reclaimed_total",
            "Number of items freed by the LRU Crawler.",
        ),
        Counter,
    ),
    stat(
        "evicted",
        desc(
            "memcached_slab_items_evicted_total",
            "Total number of times an item had to be evicted from the LRU before it expired.",
        ),
        Counter,
    ),
    stat(
        "evicted_nonzero",
        desc(
            "memcached_slab_items_evicted_nonzero_total",
            "Total number of times an item which had an explicit expire time set had to be evicted from the LRU before it expired.",
        ),
        Counter,
    ),
    stat(
        "evicted_time",
        desc(
            "memcached_slab_items_evicted_time_seconds",
            "Seconds since the last access for the most recent item evicted from this class.",
        ),
        Counter,
    ),
    stat(
        "evicted_unfetched",
        desc(
            "memcached_slab_items_evicted_unfetched_total",
            "Total nmber of items evicted and never fetched.",
        ),
        Counter,
    ),
    stat(
        "expired_unfetched",
        desc(
            "memcached_slab_items_expired_unfetched_total",
            "Total number of valid items evicted from the LRU which were never touched after being set.",
        ),
        Counter,
    ),
    stat(
        "outofmemory",
        desc(
            "memcached_slab_items_outofmemory_total",
            "Total number of items for this slab class that have triggered an out of memory error.",
        ),
        Counter,
    ),
    stat(
        "reclaimed",
        desc(
            "memcached_slab_items_reclaimed_total",
            "Total number of items reclaimed.",
        ),
        Counter,
    ),
    stat(
        "tailrepairs",
        desc(
            "memcached_slab_items_tailrepairs_total",
            "Total number of times the entries for a particular ID need repairing.",
        ),
        Counter,
    ),
    stat(
        "moves_to_cold",
        desc(
            "memcached_slab_items_moves_to_cold",
            "Number of items moved from HOT or WARM into COLD.",
        ),
        Counter,
    ),
    stat(
        "moves_to_warm",
        desc(
            "memcached_slab_items_moves_to_warm",
            "Number of items moves from COLD into WARM.",
        ),
        Counter,
    ),
    stat(
        "moves_within_lru",
        desc(
            "memcached_slab_items_moves_within_lru",
            "Number of times active items were bumped within HOT or WARM.",
        ),
        Counter,
    ),
    stat(
        "number_hot",
        desc(
            "memcached_slab_hot_items",
            "Number of items presently stored in the HOT LRU.",
        ),
        Gauge,
    ),
    stat(
        "number_warm",
        desc(
            "memcached_slab_warm_items",
            "Number of items presently stored in the WARM LRU.",
        ),
        Gauge,
    ),
    stat(
        "number_cold",
        desc(
            "memcached_slab_cold_items",
            "Number of items presently stored in the COLD LRU.",
        ),
        Gauge,
    ),
    stat(
        "number_temp",
        desc(
            "memcached_slab_temporary_items",
            "Number of items presently stored in the TEMPORARY LRU.",
        ),
        Gauge,
    ),
    stat(
        "age_hot",
        desc(
            "memcached_slab_hot_age_seconds",
            "Age of the oldest item in HOT LRU.",
        ),
        Gauge,
    ),
    stat(
        "age_warm",
        desc(
            "memcached_slab_warm_age_seconds",
            "Age of the oldest item in HOT LRU.",
        ),
        Gauge,
    ),
];

/// `stats slabs` values per slab class.
pub const SLABS: &[Stat] = &[
    stat(
        "chunk_size",
        desc(
            "memcached_slab_chunk_size_bytes",
            "Number of bytes allocated to each chunk within this slab class.",
        ),
        Gauge,
    ),
    stat(
        "chunks_per_page",
        desc(
            "memcached_slab_chunks_per_page",
            "Number of chunks within a single page for this slab class.",
        ),
        Gauge,
    ),
    stat(
        "total_pages",
        desc(
            "memcached_slab_current_pages",
            "Number of pages allocated to this slab class.",
        ),
        Gauge,
    ),
    stat(
        "total_chunks",
        desc(
            "memcached_slab_current_chunks",
            "Number of chunks allocated to this slab class.",
        ),
        Gauge,
    ),
    stat(
        "used_chunks",
        desc(
            "memcached_slab_chunks_used",
            "Number of chunks allocated to an item.",
        ),
        Gauge,
    ),
    stat(
        "free_chunks",
        desc(
            "memcached_slab_chunks_free",
            "Number of chunks not yet allocated items.",
        ),
        Gauge,
    ),
    stat(
        "free_chunks_end",
        desc(
            "memcached_slab_chunks_free_end",
            "Number of free chunks at the end of the last allocated page.",
        ),
        Gauge,
    ),
    stat(
        "mem_requested",
        desc(
            "memcached_slab_mem_requested_bytes",
            "Number of bytes of memory actual items take up within a slab.",
        ),
        Gauge,
    ),
];
