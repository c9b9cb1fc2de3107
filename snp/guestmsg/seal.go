package guestmsg

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
)

// KeySize is the size of a VMPCK (SNP Firmware ABI, secrets page).
const KeySize = 32

// Key seals and opens guest messages with one VMPCK.
type Key struct {
	aead cipher.AEAD
}

// NewKey returns a Key for the 32-byte VMPCK vmpck.
func NewKey(vmpck []byte) (*Key, error) {
	if len(vmpck) != KeySize {
		return nil, fmt.Errorf("VMPCK is %d bytes, want %d", len(vmpck), KeySize)
	}
	block, err := aes.NewCipher(vmpck)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block) // 12-byte IV, 16-byte tag
	if err != nil {
		return nil, err
	}
	return &Key{aead: aead}, nil
}

// nonce is the AES-GCM IV of message seqno: the 8-byte little-endian
// sequence number followed by 4 zero bytes (SNP Firmware ABI, "Guest
// Messages": the IV is MSG_SEQNO).
func nonce(seqno uint64) []byte {
	iv := make([]byte, 12)
	binary.LittleEndian.PutUint64(iv, seqno)
	return iv
}

// Seal returns the sealed message for payload under header h: h with
// HdrSize, HdrVersion, Algo and Size filled in and AUTHTAG computed,
// followed by the ciphertext. The caller chooses h.SeqNo and must never
// seal two different messages with the same sequence number.
func (k *Key) Seal(h Header, payload []byte) ([]byte, error) {
	if len(payload) > MaxPayloadSize {
		return nil, fmt.Errorf("guest message: payload of %d bytes above %d", len(payload), MaxPayloadSize)
	}
	h.Algo = AlgoAES256GCM
	h.HdrVersion = HeaderVersion
	h.HdrSize = HeaderSize
	h.Size = uint16(len(payload))
	h.AuthTag = [AuthTagSize]byte{}
	msg := make([]byte, HeaderSize+len(payload))
	h.Marshal(msg)
	out := k.aead.Seal(nil, nonce(h.SeqNo), payload, msg[AADOffset:HeaderSize])
	copy(msg[HeaderSize:], out[:len(payload)])
	copy(msg[offAuthTag:], out[len(payload):])
	return msg, nil
}

// ErrAuth reports a message whose tag does not verify: it was not sealed
// with this key and sequence number, or was altered.
var ErrAuth = errors.New("guest message: authentication tag mismatch")

// Open checks and decrypts a sealed message, returning its header and
// plaintext payload. Bytes after the payload are ignored.
func (k *Key) Open(msg []byte) (Header, []byte, error) {
	h, err := UnmarshalHeader(msg)
	if err != nil {
		return Header{}, nil, err
	}
	if err := h.check(); err != nil {
		return h, nil, err
	}
	if len(msg) < HeaderSize+int(h.Size) {
		return h, nil, fmt.Errorf("guest message: %d bytes for a %d-byte payload", len(msg), h.Size)
	}
	sealed := make([]byte, int(h.Size)+TagSize)
	copy(sealed, msg[HeaderSize:HeaderSize+int(h.Size)])
	copy(sealed[h.Size:], h.AuthTag[:TagSize])
	payload, err := k.aead.Open(sealed[:0], nonce(h.SeqNo), sealed, msg[AADOffset:HeaderSize])
	if err != nil {
		return h, nil, ErrAuth
	}
	return h, payload, nil
}
