//! The three parties of the protocol.

use core::fmt;

use crate::share::Party;

/// A party of the protocol: the share holders P0 and P1 and the helper P2, which deals triples and
/// evaluates element-wise functions on permuted values. In RTAS-fast the label holder is P0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Role {
    /// Share holder 0; also the label holder in RTAS-fast.
    P0,
    /// Share holder 1.
    P1,
    /// The helper: triple dealer and evaluator of element-wise functions.
    P2,
}

impl Role {
    /// All roles, in index order.
    pub const ALL: [Role; 3] = [Role::P0, Role::P1, Role::P2];

    /// 0, 1 or 2.
    pub fn index(self) -> usize {
        match self {
            Role::P0 => 0,
            Role::P1 => 1,
            Role::P2 => 2,
        }
    }

    /// The role with index `i`, if any.
    pub fn from_index(i: usize) -> Option<Role> {
        Role::ALL.get(i).copied()
    }

    /// The share holder this role is, if it is one.
    pub fn party(self) -> Option<Party> {
        match self {
            Role::P0 => Some(Party::P0),
            Role::P1 => Some(Party::P1),
            Role::P2 => None,
        }
    }
}

impl From<Party> for Role {
    fn from(p: Party) -> Role {
        match p {
            Party::P0 => Role::P0,
            Party::P1 => Role::P1,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::P0 => "P0",
            Role::P1 => "P1",
            Role::P2 => "P2",
        })
    }
}

impl core::str::FromStr for Role {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Role> {
        match s.to_ascii_lowercase().as_str() {
            "p0" | "0" => Ok(Role::P0),
            "p1" | "1" => Ok(Role::P1),
            "p2" | "2" | "helper" => Ok(Role::P2),
            _ => Err(crate::Error::config(format!(
                "unknown role {s:?} (p0, p1 or p2)"
            ))),
        }
    }
}
