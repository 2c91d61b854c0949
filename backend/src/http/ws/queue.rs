//! What one socket still has to write, bounded by frames and by bytes: a client that
//! falls further behind than either is closed with 4008 instead of holding memory.

use std::collections::VecDeque;

use poem::web::websocket::Message;

/// The client is this far behind: close it (it resumes with `since`).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct TooFarBehind;

pub(super) struct FrameQueue {
    frames: VecDeque<Message>,
    bytes: usize,
    max_frames: usize,
    max_bytes: usize,
}

fn size(frame: &Message) -> usize {
    match frame {
        Message::Text(text) => text.len(),
        Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data.len(),
        Message::Close(_) => 0,
    }
}

impl FrameQueue {
    pub(super) fn new(max_frames: usize, max_bytes: usize) -> Self {
        Self { frames: VecDeque::new(), bytes: 0, max_frames: max_frames.max(1), max_bytes }
    }

    /// Queues a frame; one frame always fits, however large.
    pub(super) fn push(&mut self, frame: Message) -> Result<(), TooFarBehind> {
        self.bytes += size(&frame);
        self.frames.push_back(frame);
        let over_bytes = self.bytes > self.max_bytes && self.frames.len() > 1;
        if self.frames.len() > self.max_frames || over_bytes {
            return Err(TooFarBehind);
        }
        Ok(())
    }

    pub(super) fn pop(&mut self) -> Option<Message> {
        let frame = self.frames.pop_front()?;
        self.bytes -= size(&frame);
        Some(frame)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> Message {
        Message::Text("x".repeat(n))
    }

    #[test]
    fn bytes_and_frames_both_bound_the_queue() {
        let mut by_bytes = FrameQueue::new(1000, 100);
        assert_eq!(by_bytes.push(text(60)), Ok(()));
        assert_eq!(by_bytes.push(text(40)), Ok(()));
        assert_eq!(by_bytes.push(text(1)), Err(TooFarBehind));

        let mut by_count = FrameQueue::new(2, 1 << 20);
        assert_eq!(by_count.push(text(1)), Ok(()));
        assert_eq!(by_count.push(text(1)), Ok(()));
        assert_eq!(by_count.push(text(1)), Err(TooFarBehind));
    }

    #[test]
    fn one_frame_always_fits_and_popping_frees_its_bytes() {
        let mut q = FrameQueue::new(10, 100);
        assert_eq!(q.push(text(500)), Ok(()), "a single large frame is sent, not refused");
        assert_eq!(q.push(text(1)), Err(TooFarBehind));
        let mut q = FrameQueue::new(10, 100);
        q.push(text(500)).expect("fits alone");
        q.pop();
        assert_eq!(q.bytes(), 0);
        assert!(q.is_empty());
        assert_eq!(q.push(text(80)), Ok(()));
    }
}
