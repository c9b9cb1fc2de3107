package hv

import "fmt"

// SynIC messages (TLFS datatypes/hv_message.md, HV_MESSAGE): 256 bytes,
// a 16-byte header and up to 240 bytes of payload. The SIMP page holds one
// message slot per SINT, slot n at 256*n.
//
//	0  MessageType (4)
//	4  Reserved (2)
//	6  MessageFlags (1): bit 0 MessagePending
//	7  PayloadSize (1)
//	8  OriginationId / Sender / Port (8)
//	16 Payload (240)
const (
	MessageSize       = 256
	MaxPayload        = 240
	messageHeaderSize = 16
	// SINTCount is the number of SINTs, hence of message slots.
	SINTCount = 16
)

// MessageType is HV_MESSAGE_TYPE (TLFS datatypes/hv_message_type.md).
type MessageType uint32

// Message types.
const (
	MsgNone              MessageType = 0x0000_0000
	MsgUnmappedGpa       MessageType = 0x8000_0000
	MsgGpaIntercept      MessageType = 0x8000_0001
	MsgTimerExpired      MessageType = 0x8000_0010
	MsgMsrIntercept      MessageType = 0x8001_0001
	MsgRegisterIntercept MessageType = 0x8001_0006
)

func (t MessageType) String() string {
	switch t {
	case MsgNone:
		return "none"
	case MsgUnmappedGpa:
		return "unmapped GPA"
	case MsgGpaIntercept:
		return "GPA intercept"
	case MsgTimerExpired:
		return "timer expired"
	case MsgMsrIntercept:
		return "MSR intercept"
	case MsgRegisterIntercept:
		return "register intercept"
	}
	return fmt.Sprintf("message type %#08x", uint32(t))
}

// Message is a decoded SynIC message header with its payload.
type Message struct {
	Type        MessageType
	Pending     bool // MessagePending: write EOM after emptying the slot
	Origination uint64
	Payload     []byte // PayloadSize bytes, aliasing the slot
}

// Slot returns SINT sint's message slot in a SIMP page.
func Slot(simp []byte, sint int) []byte {
	return simp[MessageSize*sint : MessageSize*(sint+1)]
}

// DecodeMessage reads a message slot. A payload size beyond 240 bytes is
// refused.
func DecodeMessage(slot []byte) (Message, error) {
	if len(slot) < MessageSize {
		return Message{}, fmt.Errorf("hv: SynIC message slot of %d bytes", len(slot))
	}
	m := Message{Type: MessageType(le.Uint32(slot[0:])), Pending: slot[6]&1 != 0, Origination: le.Uint64(slot[8:])}
	n := int(slot[7])
	if n > MaxPayload {
		return m, fmt.Errorf("hv: SynIC message payload size %d exceeds %d", n, MaxPayload)
	}
	m.Payload = slot[messageHeaderSize : messageHeaderSize+n]
	return m, nil
}

// ClearMessage empties a slot: MessageType back to HvMessageTypeNone,
// which the TLFS requires before an end-of-message.
func ClearMessage(slot []byte) { le.PutUint32(slot[0:], uint32(MsgNone)) }

// EncodeMessage writes a message into a slot: the hypervisor's side.
func EncodeMessage(slot []byte, t MessageType, pending bool, origination uint64, payload []byte) error {
	if len(payload) > MaxPayload {
		return fmt.Errorf("hv: SynIC payload of %d bytes", len(payload))
	}
	clear(slot[:MessageSize])
	le.PutUint32(slot[0:], uint32(t))
	if pending {
		slot[6] = 1
	}
	slot[7] = byte(len(payload))
	le.PutUint64(slot[8:], origination)
	copy(slot[messageHeaderSize:], payload)
	return nil
}

// Intercept message payloads. The public TLFS names the message types but
// not these payloads; the layouts are lvbs-linux
// drivers/hv/mshv_vsm_vtl1.c's struct hv_intercept_message_header,
// hv_mem_intercept_message, hv_intercept_message and
// hv_msr_intercept_message (the same as Linux's include/hyperv/hvhdk.h):
//
// Header (40 bytes):
//
//	0  VpIndex (4)
//	4  InstructionLength (bits 3:0) and Cr8 (7:4) (1)
//	5  InterceptAccessType (1): 0 read, 1 write, 2 execute
//	6  ExecutionState (2)
//	8  Cs (HV_X64_SEGMENT_REGISTER, 16)
//	24 Rip (8)
//	32 Rflags (8)
const interceptHeaderSize = 40

// AccessType is the intercepted access (HV_INTERCEPT_ACCESS_*).
type AccessType uint8

// Access types.
const (
	AccessRead    AccessType = 0
	AccessWrite   AccessType = 1
	AccessExecute AccessType = 2
)

func (a AccessType) String() string {
	switch a {
	case AccessRead:
		return "read"
	case AccessWrite:
		return "write"
	case AccessExecute:
		return "execute"
	}
	return fmt.Sprintf("access %d", uint8(a))
}

// InterceptHeader is the common part of intercept messages.
type InterceptHeader struct {
	VP                uint32
	InstructionLength uint8
	Access            AccessType
	ExecutionState    uint16
	Cs                SegmentRegister
	Rip, Rflags       uint64
}

func decodeInterceptHeader(p []byte, need int, what string) (InterceptHeader, error) {
	if len(p) < need {
		return InterceptHeader{}, fmt.Errorf("hv: %s message payload of %d bytes, want %d", what, len(p), need)
	}
	h := InterceptHeader{
		VP:                le.Uint32(p[0:]),
		InstructionLength: p[4] & 0xF,
		Access:            AccessType(p[5]),
		ExecutionState:    le.Uint16(p[6:]),
		Cs:                getSeg(p[8:]),
		Rip:               le.Uint64(p[24:]),
		Rflags:            le.Uint64(p[32:]),
	}
	if h.Access > AccessExecute {
		return h, fmt.Errorf("hv: %s message access type %d", what, h.Access)
	}
	return h, nil
}

func putInterceptHeader(p []byte, h InterceptHeader) {
	le.PutUint32(p[0:], h.VP)
	p[4] = h.InstructionLength & 0xF
	p[5] = byte(h.Access)
	le.PutUint16(p[6:], h.ExecutionState)
	putSeg(p[8:], h.Cs)
	le.PutUint64(p[24:], h.Rip)
	le.PutUint64(p[32:], h.Rflags)
}

// GpaIntercept is HvMessageTypeGpaIntercept's payload: the header, then
// 40 CacheType (4), 44 InstructionByteCount (1), 45 AccessInfo (1): bit 0
// GvaValid, 46 TprPriority (1), 47 reserved, 48 Gva (8), 56 Gpa (8), 64
// InstructionBytes (16). 80 bytes.
type GpaIntercept struct {
	InterceptHeader
	CacheType        uint32
	InstructionBytes []byte // up to 16, aliasing the message
	GvaValid         bool
	Gva, Gpa         uint64
}

// GpaInterceptSize is the payload size of a GPA intercept message.
const GpaInterceptSize = 80

// DecodeGpaIntercept reads a GPA intercept payload.
func DecodeGpaIntercept(p []byte) (GpaIntercept, error) {
	h, err := decodeInterceptHeader(p, GpaInterceptSize, "GPA intercept")
	if err != nil {
		return GpaIntercept{InterceptHeader: h}, err
	}
	n := int(p[44])
	if n > 16 {
		return GpaIntercept{InterceptHeader: h}, fmt.Errorf("hv: GPA intercept instruction byte count %d exceeds 16", n)
	}
	return GpaIntercept{
		InterceptHeader:  h,
		CacheType:        le.Uint32(p[40:]),
		InstructionBytes: p[64 : 64+n],
		GvaValid:         p[45]&1 != 0,
		Gva:              le.Uint64(p[48:]),
		Gpa:              le.Uint64(p[56:]),
	}, nil
}

// EncodeGpaIntercept writes a GPA intercept payload: the hypervisor's side.
func EncodeGpaIntercept(g GpaIntercept) []byte {
	p := make([]byte, GpaInterceptSize)
	putInterceptHeader(p, g.InterceptHeader)
	le.PutUint32(p[40:], g.CacheType)
	p[44] = byte(copy(p[64:80], g.InstructionBytes))
	if g.GvaValid {
		p[45] = 1
	}
	le.PutUint64(p[48:], g.Gva)
	le.PutUint64(p[56:], g.Gpa)
	return p
}

// RegisterIntercept is HvMessageTypeRegisterIntercept's payload: the
// header, then 40 IsMemoryOp (1), 41-43 reserved, 44 RegisterName (4), 48
// the value being written (HV_REGISTER_VALUE, 16). 64 bytes.
type RegisterIntercept struct {
	InterceptHeader
	IsMemoryOp bool
	Name       RegisterName
	Value      RegisterValue
}

// RegisterInterceptSize is its payload size.
const RegisterInterceptSize = 64

// DecodeRegisterIntercept reads a register intercept payload.
func DecodeRegisterIntercept(p []byte) (RegisterIntercept, error) {
	h, err := decodeInterceptHeader(p, RegisterInterceptSize, "register intercept")
	if err != nil {
		return RegisterIntercept{InterceptHeader: h}, err
	}
	return RegisterIntercept{
		InterceptHeader: h,
		IsMemoryOp:      p[40]&1 != 0,
		Name:            RegisterName(le.Uint32(p[44:])),
		Value:           RegisterValue{Low: le.Uint64(p[48:]), High: le.Uint64(p[56:])},
	}, nil
}

// EncodeRegisterIntercept is the hypervisor's side.
func EncodeRegisterIntercept(r RegisterIntercept) []byte {
	p := make([]byte, RegisterInterceptSize)
	putInterceptHeader(p, r.InterceptHeader)
	if r.IsMemoryOp {
		p[40] = 1
	}
	le.PutUint32(p[44:], uint32(r.Name))
	le.PutUint64(p[48:], r.Value.Low)
	le.PutUint64(p[56:], r.Value.High)
	return p
}

// MsrIntercept is HvMessageTypeMsrIntercept's payload: the header, then 40
// MsrNumber (4), 44 reserved (4), 48 Rdx (8), 56 Rax (8). 64 bytes. The
// value a WRMSR writes is EDX:EAX.
type MsrIntercept struct {
	InterceptHeader
	MSR      uint32
	Rdx, Rax uint64
}

// MsrInterceptSize is its payload size.
const MsrInterceptSize = 64

// Value is the 64-bit value of a WRMSR: EDX:EAX.
func (m MsrIntercept) Value() uint64 { return m.Rdx<<32 | m.Rax&0xFFFF_FFFF }

// DecodeMsrIntercept reads an MSR intercept payload.
func DecodeMsrIntercept(p []byte) (MsrIntercept, error) {
	h, err := decodeInterceptHeader(p, MsrInterceptSize, "MSR intercept")
	if err != nil {
		return MsrIntercept{InterceptHeader: h}, err
	}
	return MsrIntercept{InterceptHeader: h, MSR: le.Uint32(p[40:]), Rdx: le.Uint64(p[48:]), Rax: le.Uint64(p[56:])}, nil
}

// EncodeMsrIntercept is the hypervisor's side.
func EncodeMsrIntercept(m MsrIntercept) []byte {
	p := make([]byte, MsrInterceptSize)
	putInterceptHeader(p, m.InterceptHeader)
	le.PutUint32(p[40:], m.MSR)
	le.PutUint64(p[48:], m.Rdx)
	le.PutUint64(p[56:], m.Rax)
	return p
}
