//! Which engine a session runs on.

/// `sim` (the built-in simulator) or `whatsapp` (the real network).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    Sim,
    Whatsapp,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Sim => "sim",
            EngineKind::Whatsapp => "whatsapp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sim" => Some(EngineKind::Sim),
            "whatsapp" => Some(EngineKind::Whatsapp),
            _ => None,
        }
    }
}
