use crate::Error;
use std::fmt;

/// A display name (of a user, organization or API key): 1 to 100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let name = raw.trim();
        // Control characters have no place in a display name, and PostgreSQL refuses NUL outright.
        if name.chars().any(char::is_control) {
            return Err(Error::validation(
                "name must not contain control characters",
            ));
        }
        match name.chars().count() {
            1..=100 => Ok(Self(name.to_owned())),
            _ => Err(Error::validation(
                "name must be 1 to 100 characters after trimming",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("  Acme  ").unwrap().as_str(), "Acme");
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse(&"é".repeat(100)).is_ok());
        assert!(Name::parse(&"x".repeat(101)).is_err());
        assert!(Name::parse("Acme\0").is_err());
        assert!(Name::parse("Ac\nme").is_err());
    }
}
