"""Generator parameters of the GQMV accelerator and the widths they imply.

Every width in the datapath is derived here from (LANES, GROUP, MAX_LEN) and the arithmetic
contract in ``model.integer_ops`` so that the hardware is exact by construction: a config whose
worst case could overflow the contract's 48-bit accumulator is refused when it is created.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from model.integer_ops import ACC_BITS, GSCALE_BITS, MAX_SHIFT, MULT_BITS, worst_case_total_bits

#: Deliberate bugs the generator can build in, so the testbench can prove it notices them.
MUTATIONS = ("none", "round_half_down", "no_saturation", "drop_bias")


@dataclass(frozen=True)
class GqmvConfig:
    """One accelerator configuration.

    lanes:    rows computed in parallel (each lane has GROUP int8 multipliers).
    group:    int8 elements per group (= per weight beat and lane; the scale granularity).
    max_len:  largest activation length K the vector buffer holds (a multiple of group).
    req_bits: bits of the 16-bit requantization multiplier consumed per cycle by each lane's
              sequential total x mult multiplier (16 = one cycle, 4 = four cycles, less area).
    scale_bits: bits of the 16-bit group scale consumed per cycle by each lane's acc x gscale
              multiplier (16 = one weight beat per cycle; 4 = one beat every 4 cycles, less area).
    tree_levels: adder levels of the group dot product's tree between two pipeline registers
              (the tree has log2(group) levels; fewer levels per stage = shorter paths, more
              registers).
    mutation: a deliberate bug for the testbench's mutation check; "none" in real configs.
    """

    name: str
    lanes: int
    group: int
    max_len: int
    req_bits: int = MULT_BITS
    scale_bits: int = GSCALE_BITS
    tree_levels: int = 2
    mutation: str = "none"

    def __post_init__(self) -> None:
        for what, v in (("lanes", self.lanes), ("group", self.group)):
            if v < 1 or v & (v - 1):
                raise ValueError(f"config {self.name}: {what}={v} must be a power of two")
        if self.group > 255 or self.lanes > 255 or self.max_groups > 65535:
            raise ValueError(f"config {self.name}: parameters do not fit the INFO register")
        if self.max_len < self.group or self.max_len % self.group:
            raise ValueError(f"config {self.name}: max_len {self.max_len} is not a positive "
                             f"multiple of group {self.group}")
        if MULT_BITS % self.req_bits:
            raise ValueError(f"config {self.name}: req_bits {self.req_bits} must divide "
                             f"{MULT_BITS}")
        if GSCALE_BITS % self.scale_bits:
            raise ValueError(f"config {self.name}: scale_bits {self.scale_bits} must divide "
                             f"{GSCALE_BITS}")
        if self.tree_levels < 1:
            raise ValueError(f"config {self.name}: tree_levels {self.tree_levels} must be >= 1")
        if self.total_bits > ACC_BITS:
            raise ValueError(f"config {self.name}: worst-case total needs {self.total_bits} bits "
                             f"> the contract's {ACC_BITS}")
        if self.mutation not in MUTATIONS:
            raise ValueError(f"config {self.name}: unknown mutation {self.mutation!r}")

    @property
    def max_groups(self) -> int:
        return self.max_len // self.group

    @property
    def total_bits(self) -> int:
        """Signed width of the per-row total (worst case of the contract, at most 48)."""
        return worst_case_total_bits(self.max_len, self.group)

    @property
    def req_cycles(self) -> int:
        """Cycles the shared requantization multiplier spends per row."""
        return MULT_BITS // self.req_bits

    @property
    def beat_cycles(self) -> int:
        """Cycles per weight beat of the acc x gscale multiplier (1 = full rate)."""
        return GSCALE_BITS // self.scale_bits

    # ---- pipeline (design/gqmv.py, design/datapath.py) ----------------------------------------
    @property
    def tree_stages(self) -> int:
        """Pipeline stages of the adder tree (0 when a group is a single product)."""
        levels = self.group.bit_length() - 1
        return -(-levels // self.tree_levels)

    @property
    def req_split(self) -> bool:
        """The total x chunk product gets its own pipeline stage before the Horner adder. Even
        a 1-bit chunk (an AND gate) is worth it: the chunk bit fans out to every bit of t, and
        its buffer tree in front of the 38-bit adder was on small's ss critical path at 25 ns."""
        return True

    @property
    def scale_split(self) -> bool:
        """The acc x gscale-chunk product is made of two registered half-chunk products, summed
        in the next stage (a 17x8 product was small's ss critical path at 25 ns, at ABC's
        floor); a chunk of 4 bits or less stays one stage."""
        return self.scale_bits >= 8

    @property
    def mac_latency(self) -> int:
        """Cycles from a weight beat's issue to the result FIFO write of its row block's total,
        for the last beat: input register, products, tree stages, the beat_cycles chunks of the
        scale product (the last chunk's register; one more with the half-chunk products of
        ``scale_split``), the accumulator, the FIFO write."""
        return 2 + self.tree_stages + self.beat_cycles + int(self.scale_split) + 2

    @property
    def req_latency(self) -> int:
        """Cycles from taking a row block into the requantizer to its result FIFO write:
        total + bias (two stages: half-width sums, then the carry), req_cycles Horner steps
        (plus the chunk product register when split), the rounding/saturation stages (shifter
        and tests, then increment and saturation)."""
        return 2 + self.req_cycles + int(self.req_split) + 2

    @property
    def acc_fifo_depth(self) -> int:
        """Row-block totals the accumulator may have in flight or waiting for the requantizer.

        The last weight beat of a block is only issued while a FIFO slot is free (a credit), so
        the pipeline after the issue never stalls. A credit comes back mac_latency + 1 cycles
        after its issue at best (FIFO write, take, counter), and blocks end at most once per
        max(beat_cycles, req_cycles) cycles, so this many credits keep the weight stream from
        ever waiting on one when the row parameters keep up (dv/tests check the cycle count).
        """
        block = max(self.beat_cycles, self.req_cycles)
        return -(-(self.mac_latency + 1) // block)

    @property
    def out_fifo_depth(self) -> int:
        """Result beats in flight or waiting for the ``y`` sink (same credit scheme: a credit
        returns req_latency + 1 cycles after its take, takes come every req_cycles)."""
        return -(-(self.req_latency + 1) // self.req_cycles)

    def row_block_cycles(self, length: int) -> int:
        """Steady-state cycles per row block of a length-K job (MAC-bound or requant-bound)."""
        return max((length // self.group) * self.beat_cycles, self.req_cycles)

    def job_cycles(self, length: int, rows: int) -> int:
        """Cycles from start to done for an N x K job with streams that never stall.

        K/G activation beats; the first row block's weight beats (M = K/G * beat_cycles); every
        further block costs max(M, req_cycles) because MACs of block b+1 overlap the
        requantization of block b; the last block's requantization; the pipeline latency
        (mac_latency and req_latency without the cycles already counted, the start cycle and
        the result beat). dv/tests check this against the CYCLES register.
        """
        blocks = rows // self.lanes
        macs = (length // self.group) * self.beat_cycles
        fill = (self.mac_latency - self.beat_cycles) + (self.req_latency - self.req_cycles) + 2
        return (length // self.group + macs + (blocks - 1) * self.row_block_cycles(length)
                + self.req_cycles + fill)

    @property
    def top_name(self) -> str:
        return f"gqmv_{self.name}"

    # Stream payload widths (the flat bit layouts are documented in design/README.md).
    @property
    def x_width(self) -> int:
        return self.group * 8

    @property
    def w_width(self) -> int:
        return self.lanes * (self.group * 8 + GSCALE_BITS)

    @property
    def rowp_width(self) -> int:
        return self.lanes * (32 + MULT_BITS)

    @property
    def y_width(self) -> int:
        return self.lanes * 32

    def params(self) -> dict[str, object]:
        """Parameters and derived widths, for the manifest and the testbench."""
        d = asdict(self)
        d.update(total_bits=self.total_bits, req_cycles=self.req_cycles,
                 beat_cycles=self.beat_cycles, max_shift=MAX_SHIFT,
                 tree_stages=self.tree_stages, acc_fifo_depth=self.acc_fifo_depth,
                 out_fifo_depth=self.out_fifo_depth,
                 x_width=self.x_width, w_width=self.w_width, rowp_width=self.rowp_width,
                 y_width=self.y_width, top=self.top_name)
        return d

    @classmethod
    def from_params(cls, params: dict[str, object]) -> GqmvConfig:
        keys = ("name", "lanes", "group", "max_len", "req_bits", "scale_bits", "tree_levels",
                "mutation")
        return cls(**{k: params[k] for k in keys})  # type: ignore[arg-type]


#: The shipped configurations: ``small`` fits the sky130 cell budget, ``base`` runs the model.
CONFIGS: dict[str, GqmvConfig] = {
    "small": GqmvConfig("small", lanes=1, group=2, max_len=16, req_bits=1, scale_bits=8),
    # req_bits 8: two cycles per row block, which the MACs of every block of the model hide
    # (K >= 128 = 2 groups = 2 cycles), and a 43x8 instead of a 43x16 product per cycle.
    "base": GqmvConfig("base", lanes=4, group=64, max_len=512, req_bits=8),
    # The smallest engine that runs every matrix of the shipped model (issue #14; sizing table
    # in design/README.md): base's MAX_LEN 512, one lane of GROUP 2. scale_bits 16 keeps one
    # weight beat a cycle (scale_bits 8 would double cycles/token, 100 % over the MAC bound);
    # req_bits 1 (16 cycles/row) is hidden behind the >= 64 beats of every row of the model.
    # The model's per-64 group scales are sent once per 2-weight beat (the host repeats them).
    "l1_g2": GqmvConfig("l1_g2", lanes=1, group=2, max_len=512, req_bits=1, scale_bits=16),
}
