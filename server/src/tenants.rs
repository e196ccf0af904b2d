//! The built-in demo: Kreis Heinsberg and its ten municipalities as tenants, each with its own
//! name, colour, address, reference prefix and set of services. Addresses and colours are demo
//! data in the style of the real ones, not official.

use lotse_receipt::{Logo, TenantInfo};

#[derive(Clone, Debug)]
pub struct Tenant {
    pub slug: &'static str,
    pub name: &'static str,
    /// Three letters that start every reference number (`HEI-2026-000123`).
    pub prefix: &'static str,
    pub colour: &'static str,
    pub address: [&'static str; 2],
    pub office: &'static str,
    pub phone: &'static str,
    /// Workflow ids this tenant offers.
    pub services: &'static [&'static str],
}

const ALL: &[&str] = &[
    "hundesteuer-anmeldung",
    "bewohnerparkausweis",
    "sondernutzung-strasse",
];

pub const DEMO: &[Tenant] = &[
    Tenant {
        slug: "kreis-heinsberg",
        name: "Kreis Heinsberg",
        prefix: "KHS",
        colour: "#00587c",
        address: ["Valkenburger Straße 45", "52525 Heinsberg"],
        office: "Straßenverkehrsamt",
        phone: "02452 13-0",
        services: &["sondernutzung-strasse"],
    },
    Tenant {
        slug: "erkelenz",
        name: "Stadt Erkelenz",
        prefix: "ERK",
        colour: "#a6192e",
        address: ["Johannismarkt 17", "41812 Erkelenz"],
        office: "Bürgerbüro",
        phone: "02431 85-0",
        services: ALL,
    },
    Tenant {
        slug: "gangelt",
        name: "Gemeinde Gangelt",
        prefix: "GAN",
        colour: "#2e6b30",
        address: ["Burgstraße 10", "52538 Gangelt"],
        office: "Bürgerbüro",
        phone: "02454 588-0",
        services: &["hundesteuer-anmeldung"],
    },
    Tenant {
        slug: "geilenkirchen",
        name: "Stadt Geilenkirchen",
        prefix: "GEI",
        colour: "#1f4e9c",
        address: ["Markt 9", "52511 Geilenkirchen"],
        office: "Bürgerbüro",
        phone: "02451 629-0",
        services: ALL,
    },
    Tenant {
        slug: "heinsberg",
        name: "Stadt Heinsberg",
        prefix: "HEI",
        colour: "#6a1b9a",
        address: ["Apfelstraße 60", "52525 Heinsberg"],
        office: "Bürgerbüro",
        phone: "02452 14-0",
        services: ALL,
    },
    Tenant {
        slug: "hueckelhoven",
        name: "Stadt Hückelhoven",
        prefix: "HUE",
        colour: "#00695c",
        address: ["Rathausplatz 1", "41836 Hückelhoven"],
        office: "Bürgerservice",
        phone: "02433 82-0",
        services: &["hundesteuer-anmeldung", "sondernutzung-strasse"],
    },
    Tenant {
        slug: "selfkant",
        name: "Gemeinde Selfkant",
        prefix: "SEL",
        colour: "#ad1457",
        address: ["Am Rathaus 13", "52538 Selfkant"],
        office: "Bürgerbüro",
        phone: "02456 499-0",
        services: &["hundesteuer-anmeldung"],
    },
    Tenant {
        slug: "uebach-palenberg",
        name: "Stadt Übach-Palenberg",
        prefix: "UEP",
        colour: "#283593",
        address: ["Rathausplatz 4", "52531 Übach-Palenberg"],
        office: "Bürgerbüro",
        phone: "02451 979-0",
        services: ALL,
    },
    Tenant {
        slug: "waldfeucht",
        name: "Gemeinde Waldfeucht",
        prefix: "WAL",
        colour: "#5d4037",
        address: ["Lambertusstraße 13", "52525 Waldfeucht"],
        office: "Bürgerbüro",
        phone: "02455 399-0",
        services: &["hundesteuer-anmeldung"],
    },
    Tenant {
        slug: "wassenberg",
        name: "Stadt Wassenberg",
        prefix: "WAS",
        colour: "#01579b",
        address: ["Roermonder Straße 25–27", "41849 Wassenberg"],
        office: "Bürgerbüro",
        phone: "02432 4900-0",
        services: &["hundesteuer-anmeldung", "bewohnerparkausweis"],
    },
    Tenant {
        slug: "wegberg",
        name: "Stadt Wegberg",
        prefix: "WEG",
        colour: "#33691e",
        address: ["Rathausplatz 25", "41844 Wegberg"],
        office: "Bürgerbüro",
        phone: "02434 83-0",
        services: ALL,
    },
];

pub fn find(slug: &str) -> Option<&'static Tenant> {
    DEMO.iter().find(|t| t.slug == slug)
}

/// Every tenant's slug: what workflow overrides and scenarios may name.
pub fn slugs() -> Vec<&'static str> {
    DEMO.iter().map(|t| t.slug).collect()
}

impl Tenant {
    /// The initials on the tenant's shield: "Übach-Palenberg" → "ÜP", "Kreis Heinsberg" → "KH".
    pub fn initials(&self) -> String {
        let mine = two_letters(place_of(self.name));
        // Two places with the same two letters (Waldfeucht, Wassenberg): the first letter and
        // the first one where the names part (WL, WS), so that no two monograms are alike.
        let twin = DEMO
            .iter()
            .filter(|o| o.slug != self.slug)
            .map(|o| place_of(o.name))
            .find(|o| two_letters(o) == mine);
        let Some(twin) = twin else {
            return mine;
        };
        let place = place_of(self.name);
        let differs = place
            .chars()
            .zip(twin.chars().chain(std::iter::repeat(' ')))
            .find(|(a, b)| a != b)
            .map(|(a, _)| a);
        match (place.chars().next(), differs) {
            (Some(first), Some(d)) => format!("{first}{d}").to_uppercase(),
            _ => mine,
        }
    }

    /// What the receipt shows of the tenant.
    pub fn receipt_info(&self, office: &str) -> TenantInfo {
        TenantInfo {
            id: self.slug.to_string(),
            name: self.name.to_string(),
            address_lines: self.address.iter().map(|s| s.to_string()).collect(),
            colour_hex: self.colour.to_string(),
            logo: Some(Logo::Initials {
                initials: self.initials(),
            }),
            office: office.to_string(),
        }
    }
}

/// A municipality's place name without its kind (`Stadt Erkelenz` → `Erkelenz`).
fn place_of(name: &str) -> &str {
    name.strip_prefix("Stadt ")
        .or_else(|| name.strip_prefix("Gemeinde "))
        .unwrap_or(name)
}

/// The initials of a name of several words (`Übach-Palenberg` → `ÜP`), else its first two
/// letters (`ER`).
fn two_letters(place: &str) -> String {
    let parts: Vec<char> = place
        .split([' ', '-'])
        .filter_map(|w| w.chars().next())
        .collect();
    if parts.len() >= 2 {
        parts.iter().take(2).collect()
    } else {
        place.chars().take(2).collect::<String>().to_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_county_and_its_ten_municipalities() {
        assert_eq!(DEMO.len(), 11);
        let mut prefixes: Vec<&str> = DEMO.iter().map(|t| t.prefix).collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        assert_eq!(prefixes.len(), 11, "reference prefixes must be unique");
        assert_eq!(
            find("uebach-palenberg").map(Tenant::initials).as_deref(),
            Some("ÜP")
        );
        assert_eq!(
            find("heinsberg").map(Tenant::initials).as_deref(),
            Some("HE")
        );
    }
}
