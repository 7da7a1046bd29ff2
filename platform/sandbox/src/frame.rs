//! Frames: a 4-byte big-endian length, then that many bytes of JSON.

use std::io::{self, Read, Write};

/// Largest frame either side accepts.
pub const MAX_FRAME: usize = 4 * 1024 * 1024;

/// What reading one frame gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole frame.
    Data(Vec<u8>),
    /// A frame longer than the cap, of this many bytes; its bytes were read and dropped.
    TooLarge(usize),
    /// The other side closed the stream between frames.
    Eof,
}

/// Reads one frame; a stream that ends inside a frame is an error.
pub fn read_frame(reader: &mut impl Read, max: usize) -> io::Result<Frame> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match reader.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(Frame::Eof),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        let skipped = io::copy(&mut reader.take(len as u64), &mut io::sink())?;
        if skipped < len as u64 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        return Ok(Frame::TooLarge(len));
    }
    let mut buf = vec![0u8; len];
    reader.read_exact(&mut buf)?;
    Ok(Frame::Data(buf))
}

/// Writes one frame and flushes.
pub fn write_frame(writer: &mut impl Write, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len()).map_err(|_| io::Error::other("frame too large"))?;
    writer.write_all(&len.to_be_bytes())?;
    writer.write_all(body)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_round_trips_and_a_closed_stream_is_eof() {
        let mut buf = Vec::new();
        write_frame(&mut buf, b"{\"id\":1}").unwrap();
        let mut reader = &buf[..];
        assert_eq!(
            read_frame(&mut reader, MAX_FRAME).unwrap(),
            Frame::Data(b"{\"id\":1}".to_vec())
        );
        assert_eq!(read_frame(&mut reader, MAX_FRAME).unwrap(), Frame::Eof);
    }

    #[test]
    fn an_oversized_frame_is_skipped_and_the_next_one_is_read() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &[b'x'; 100]).unwrap();
        write_frame(&mut buf, b"ok").unwrap();
        let mut reader = &buf[..];
        assert_eq!(read_frame(&mut reader, 10).unwrap(), Frame::TooLarge(100));
        assert_eq!(
            read_frame(&mut reader, 10).unwrap(),
            Frame::Data(b"ok".to_vec())
        );
    }

    #[test]
    fn a_stream_cut_inside_a_frame_is_an_error() {
        let mut reader = &[0u8, 0, 0, 9, b'x'][..];
        assert!(read_frame(&mut reader, MAX_FRAME).is_err());
    }
}
