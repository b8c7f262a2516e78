// F0 tracking with YIN (de Cheveigné & Kawahara 2002, JASA 111(4)) and the pitch statistics
// of the delivery analysis: median, p10–p90 range in semitones and the monotone rule.
#include "speech/pitch.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>

namespace speech {
namespace {

constexpr double kMinF0 = 60;
constexpr double kMaxF0 = 500;
constexpr double kFrameS = 0.040;  // analysis window: lag search + integration window
// CMND dip that counts as periodic (the paper's "absolute threshold"; 0.1–0.15 is usual).
constexpr double kYinThreshold = 0.15;
// YIN's cost grows with the square of the rate; 8 kHz keeps 500 Hz far below Nyquist and
// makes a minute of audio cost well under a second.
constexpr int kPitchRate = 8000;
// Frames quieter than this, or this far below the loudest frame, are not tried at all.
constexpr double kVoicingFloorDbfs = -60;
constexpr double kVoicingRangeDb = 40;
constexpr size_t kMinVoicedRun = 3;  // a lone voiced blip under 30 ms is noise, not a vowel
constexpr int kSmoothRadius = 2;     // 5-frame median removes isolated octave jumps

// Windowed-sinc (Hamming) low-pass at 90% of the decimated Nyquist frequency.
std::vector<double> lowpass_kernel(int factor) {
    const int half = 8 * factor;
    const double fc = 0.45 / factor;  // cycles per input sample
    std::vector<double> h(static_cast<size_t>(2 * half + 1));
    double sum = 0;
    for (int k = 0; k <= 2 * half; ++k) {
        const double t = k - half;
        const double sinc =
            t == 0 ? 2 * fc : std::sin(2 * std::numbers::pi * fc * t) / (std::numbers::pi * t);
        const double window = 0.54 - 0.46 * std::cos(2 * std::numbers::pi * k / (2.0 * half));
        h[static_cast<size_t>(k)] = sinc * window;
        sum += h[static_cast<size_t>(k)];
    }
    for (double& v : h) v /= sum;
    return h;
}

// Low-passes and decimates one analysis frame at a time, so a two-hour recording never needs
// a second full-length copy of itself.
class Decimator {
  public:
    explicit Decimator(int rate)
        : factor_(std::max(1, rate / kPitchRate)),
          kernel_(factor_ > 1 ? lowpass_kernel(factor_) : std::vector<double>{1.0}),
          out_rate_(static_cast<double>(rate) / factor_) {}

    double out_rate() const { return out_rate_; }
    size_t factor() const { return static_cast<size_t>(factor_); }

    // out[k] = (h * x)[start + k·factor] / 32768 for k < out.size(), zeros outside x.
    void frame(const int16_t* x, size_t n, size_t start, std::vector<float>& out) const {
        const std::ptrdiff_t half = static_cast<std::ptrdiff_t>(kernel_.size() / 2);
        const std::ptrdiff_t len = static_cast<std::ptrdiff_t>(n);
        for (size_t k = 0; k < out.size(); ++k) {
            const std::ptrdiff_t centre = static_cast<std::ptrdiff_t>(start + k * factor());
            const std::ptrdiff_t from = std::max<std::ptrdiff_t>(0, centre - half);
            const std::ptrdiff_t to = std::min<std::ptrdiff_t>(len - 1, centre + half);
            double acc = 0;
            for (std::ptrdiff_t j = from; j <= to; ++j)
                acc += kernel_[static_cast<size_t>(j - centre + half)] * x[j];
            out[k] = static_cast<float>(acc / 32768.0);
        }
    }

  private:
    int factor_;
    std::vector<double> kernel_;
    double out_rate_;
};

// One YIN estimator for a fixed rate; the work buffers are reused across frames.
class Yin {
  public:
    explicit Yin(double rate)
        : rate_(rate),
          tau_min_(std::max(2, static_cast<int>(std::floor(rate / kMaxF0)))),
          tau_max_(static_cast<int>(std::ceil(rate / kMinF0))),
          frame_(static_cast<int>(std::lround(kFrameS * rate))),
          width_(frame_ - tau_max_ - 1),
          diff_(static_cast<size_t>(tau_max_ + 1)),
          cmnd_(static_cast<size_t>(tau_max_ + 1)) {}

    // Needs Nyquist above the highest F0 and room for an integration window.
    bool usable() const { return rate_ >= 4 * kMaxF0 && width_ >= tau_max_ / 2; }
    size_t frame_size() const { return static_cast<size_t>(frame_); }

    // F0 in Hz of the frame starting at x (frame_size() samples), or 0 when aperiodic.
    double estimate(const float* x) {
        difference(x);                // step 2
        normalize();                  // step 3
        const int tau = first_dip();  // step 4
        if (tau == 0) return 0;
        const double f0 = rate_ / refine(tau);  // step 5
        return f0 >= kMinF0 * 0.97 && f0 <= kMaxF0 * 1.03 ? f0 : 0;
    }

  private:
    // d(τ) = Σ_{j<W} (x_j − x_{j+τ})², for τ = 1..τmax.
    void difference(const float* x) {
        for (int tau = 1; tau <= tau_max_; ++tau) {
            const float* y = x + tau;
            float acc = 0;
            for (int j = 0; j < width_; ++j) {
                const float delta = x[j] - y[j];
                acc += delta * delta;
            }
            diff_[static_cast<size_t>(tau)] = acc;
        }
    }

    // Cumulative mean normalised difference: d'(τ) = d(τ) · τ / Σ_{k=1..τ} d(k), d'(0) = 1.
    void normalize() {
        cmnd_[0] = 1;
        double running = 0;
        for (int tau = 1; tau <= tau_max_; ++tau) {
            const size_t t = static_cast<size_t>(tau);
            running += diff_[t];
            cmnd_[t] = running > 0 ? diff_[t] * tau / running : 1;
        }
    }

    // The first lag whose d' falls under the threshold, walked down to its local minimum;
    // 0 when none does (the frame is unvoiced rather than taking the global minimum).
    int first_dip() const {
        for (int tau = tau_min_; tau < tau_max_; ++tau) {
            if (cmnd_[static_cast<size_t>(tau)] >= kYinThreshold) continue;
            while (tau + 1 < tau_max_ &&
                   cmnd_[static_cast<size_t>(tau + 1)] < cmnd_[static_cast<size_t>(tau)])
                ++tau;
            return tau;
        }
        return 0;
    }

    // Parabolic interpolation through d'(τ−1), d'(τ), d'(τ+1): sub-sample period.
    double refine(int tau) const {
        const size_t t = static_cast<size_t>(tau);
        const double a = cmnd_[t - 1], b = cmnd_[t], c = cmnd_[t + 1];
        const double curvature = a - 2 * b + c;
        if (curvature <= 0) return tau;
        return tau + std::clamp(0.5 * (a - c) / curvature, -0.5, 0.5);
    }

    double rate_;
    int tau_min_, tau_max_, frame_, width_;
    std::vector<double> diff_, cmnd_;
};

double rms_dbfs(const int16_t* x, size_t n) {
    double energy = 0;
    for (size_t i = 0; i < n; ++i) energy += static_cast<double>(x[i]) * x[i];
    const double rms = std::sqrt(energy / static_cast<double>(std::max<size_t>(n, 1))) / 32768.0;
    return 20 * std::log10(std::max(rms, 1e-6));
}

// Where each 10 ms frame starts in the input, for frames of `span` input samples.
std::vector<size_t> frame_starts(size_t n, size_t span, int rate) {
    std::vector<size_t> starts;
    for (size_t i = 0;; ++i) {
        const size_t start = static_cast<size_t>(std::lround(i * pitch::kHopS * rate));
        if (start + span > n) break;
        starts.push_back(start);
    }
    return starts;
}

// Voiced runs shorter than kMinVoicedRun frames become unvoiced.
void drop_short_runs(std::vector<double>& f0) {
    size_t i = 0;
    while (i < f0.size()) {
        if (f0[i] == 0) {
            ++i;
            continue;
        }
        size_t end = i;
        while (end < f0.size() && f0[end] > 0) ++end;
        if (end - i < kMinVoicedRun) std::fill(f0.begin() + i, f0.begin() + end, 0.0);
        i = end;
    }
}

// Each voiced frame takes the median of the voiced frames within ±kSmoothRadius.
std::vector<double> median_smooth(const std::vector<double>& f0) {
    std::vector<double> out(f0.size(), 0.0);
    std::vector<double> near;
    for (size_t i = 0; i < f0.size(); ++i) {
        if (f0[i] == 0) continue;
        near.clear();
        const size_t from = i >= kSmoothRadius ? i - kSmoothRadius : 0;
        const size_t to = std::min(f0.size(), i + kSmoothRadius + 1);
        for (size_t j = from; j < to; ++j)
            if (f0[j] > 0) near.push_back(f0[j]);
        out[i] = pitch::quantile(near, 0.5);
    }
    return out;
}

double semitones(double low_hz, double high_hz) {
    return low_hz > 0 && high_hz > 0 ? 12 * std::log2(high_hz / low_hz) : 0;
}

std::vector<double> voiced_between(const std::vector<double>& f0, size_t from, size_t to) {
    std::vector<double> v;
    for (size_t i = from; i < to; ++i)
        if (f0[i] > 0) v.push_back(f0[i]);
    return v;
}

double spread_semitones(const std::vector<double>& voiced) {
    return semitones(pitch::quantile(voiced, 0.10), pitch::quantile(voiced, 0.90));
}

// Spreads of the 8-second windows (starting every 4 s) that hold at least 1 s of voice.
std::vector<double> window_spreads(const std::vector<double>& f0) {
    const size_t window = static_cast<size_t>(std::lround(pitch::kWindowS / pitch::kHopS));
    const size_t step = window / 2;
    const size_t min_voiced = static_cast<size_t>(std::lround(1.0 / pitch::kHopS));
    std::vector<double> spreads;
    for (size_t start = 0; start < f0.size(); start += step) {
        const size_t end = std::min(f0.size(), start + window);
        const std::vector<double> voiced = voiced_between(f0, start, end);
        if (voiced.size() >= min_voiced) spreads.push_back(spread_semitones(voiced));
        if (end == f0.size()) break;
    }
    return spreads;
}

}  // namespace

std::vector<double> track_pitch(const int16_t* samples, size_t n, int sample_rate) {
    if (samples == nullptr || n == 0 || sample_rate <= 0) return {};
    const Decimator decimator(sample_rate);
    Yin yin(decimator.out_rate());
    if (!yin.usable()) return {};
    const size_t span = yin.frame_size() * decimator.factor();  // input samples per frame
    const std::vector<size_t> starts = frame_starts(n, span, sample_rate);
    std::vector<double> levels(starts.size());
    for (size_t i = 0; i < starts.size(); ++i) levels[i] = rms_dbfs(samples + starts[i], span);
    const double loudest = levels.empty() ? 0 : *std::max_element(levels.begin(), levels.end());
    const double gate = std::max(kVoicingFloorDbfs, loudest - kVoicingRangeDb);
    std::vector<double> f0(starts.size(), 0.0);
    std::vector<float> frame(yin.frame_size());
    for (size_t i = 0; i < starts.size(); ++i) {
        if (levels[i] < gate) continue;  // silence and faint background: not worth a search
        decimator.frame(samples, n, starts[i], frame);
        f0[i] = yin.estimate(frame.data());
    }
    drop_short_runs(f0);
    return median_smooth(f0);
}

namespace pitch {

double quantile(std::vector<double> values, double q) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1);
    const size_t lo = static_cast<size_t>(pos);
    const size_t hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (values[hi] - values[lo]) * (pos - static_cast<double>(lo));
}

PitchStats summarize_pitch(const std::vector<double>& f0) {
    PitchStats stats;
    const std::vector<double> voiced = voiced_between(f0, 0, f0.size());
    const size_t min_voiced = static_cast<size_t>(std::lround(0.2 / kHopS));
    if (voiced.size() < min_voiced) return stats;
    stats.median_hz = quantile(voiced, 0.5);
    stats.range_semitones = spread_semitones(voiced);
    const std::vector<double> spreads = window_spreads(f0);
    stats.monotone = !spreads.empty() && quantile(spreads, 0.5) < kMonotoneSemitones;
    return stats;
}

}  // namespace pitch
}  // namespace speech
