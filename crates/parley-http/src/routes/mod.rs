pub mod assets;
pub mod auth;
pub mod channels;
pub mod conversations;
pub mod files;
pub mod people;
pub mod system;
pub mod widget;
